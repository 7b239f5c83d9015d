#!/usr/bin/env node
/*
 * supply.js - the dashboard's products, shipments and packing, catalog
 * and tiers, webhooks pages and the code lookup's wording of cases and
 * pallets (issue 19 item 5, review items 10 and 11) in Debian's headless
 * Chromium, in Shanghai time and zh-CN (and once in English), every task
 * done through the page and its result read back from the server:
 *
 *   products: paged ("更多产品"), searched, a bad GTIN refused in Chinese
 *   with nothing made, one created, renamed, its batches, editor and GS1
 *   links; shipments: paged, filtered, codes shipped as pasted lines
 *   (URLs, compact codes, blanks, a repeat), a bad line named, a shipment
 *   received; packing items into a case and the case into a pallet, a
 *   repacked item refused, the lookup naming "装入 2 件：#..." with links
 *   and the item's case → pallet step, then unpacking; catalog: an item
 *   added, a bad one refused, tiers that cannot be saved wrong, saved
 *   right; webhooks: created (secret shown once), a private URL refused,
 *   deleted after a confirmation; the same pages in English; an analyst
 *   offered no change; the layout at 1024x768.
 *
 *   node tests/browser/supply.js BASE ADMIN_EMAIL ANALYST_EMAIL OUTDIR CODES_JSON
 *
 * CODES_JSON: {"tea": [urls of TEA's codes, serial 1 first]}. The
 * password is SIGIL_TEST_PASSWORD. Prints "ok ..."/"FAIL ..." lines, then
 * one line of JSON {"failures", "dialogs", "console_errors", "shots"}.
 */
'use strict';

const path = require('path');
const { check, launch, tally } = require('./lib');

const TZ = 'Asia/Shanghai';
/* Server messages a zh-CN page must never show. */
const ENGLISH = /check digit|not found|must be|already|no such|refused|invalid|forbidden|private|loopback/i;

async function main(argv) {
	if (argv.length !== 5) {
		process.stderr.write('usage: node supply.js BASE ADMIN ANALYST ' +
		    'OUTDIR CODES_JSON\n');
		process.exit(2);
	}
	const [base, admin, analyst, outdir, codesJson] = argv;
	const tea = JSON.parse(codesJson).tea;
	const pw = process.env.SIGIL_TEST_PASSWORD;
	const facts = { dialogs: [], console_errors: [], shots: [] };
	const browser = await launch();
	try {
		const context = await browser.newContext({
			viewport: { width: 1440, height: 900 }, locale: 'zh-CN',
			timezoneId: TZ });
		const page = await context.newPage();
		page.on('dialog', async (d) => {
			facts.dialogs.push(d.type() + ': ' + d.message());
			await d.dismiss();
		});
		page.on('console', (m) => {
			/* The refusals the page expects and shows in its words. */
			if (m.type() === 'error' &&
			    !/status of (401|404|409|422)/.test(m.text()))
				facts.console_errors.push(m.text());
		});
		page.on('pageerror', (e) => facts.console_errors.push(String(e)));
		const shot = async (name) => {
			const file = path.join(outdir, 'supply-' + name + '.png');
			await page.waitForTimeout(150);
			await page.screenshot({ path: file, fullPage: true });
			facts.shots.push(file);
		};
		const get = (p) => page.evaluate(async (u) => {
			const r = await fetch(u);
			return { status: r.status, body: await r.json() };
		}, p);
		const goto = async (hash, selector) => {
			await page.evaluate((h) => { location.hash = h; }, hash);
			await page.waitForSelector(selector, { timeout: 10000 });
		};
		const login = async (email) => {
			await page.goto(base + '/admin/', { waitUntil: 'load' });
			await page.waitForSelector('#login-form');
			await page.fill('#login-email', email);
			await page.fill('#login-password', pw);
			await page.click('#login-form button[type=submit]');
			await page.waitForSelector('#kpi-scans', { timeout: 10000 });
		};
		const rows = (sel) => page.$$eval(sel + ' table tbody tr',
		    (trs) => trs.map((tr) => tr.textContent));
		const waitRows = async (sel, n) => {
			await page.waitForFunction(([s, k]) =>
			    document.querySelectorAll(s + ' table tbody tr').length === k,
			    [sel, n], { timeout: 10000 }).catch(() => null);
			return (await rows(sel)).length;
		};
		const text = async (sel) => (await page.textContent(sel)) || '';
		const noEnglish = async (sel, what) => {
			const s = await text(sel);
			check(!ENGLISH.test(s), `${what}: no English server message ` +
			    `(${s.trim().slice(0, 80)})`);
		};
		const code = (i) => tea[i].split('/S/')[1];

		await login(admin);

		/* ---- products ---- */
		await goto('#/products', '#pr-list table');
		check(await waitRows('#pr-list', 50) === 50 && await page.$('#pr-more'),
		    'products: 50 a page and "更多产品"');
		await page.click('#pr-more');
		check(await waitRows('#pr-list', 100) === 100,
		    'products: the next page appended');
		await page.click('#pr-more');
		const all = await waitRows('#pr-list', 122);
		check(all === 122 && !await page.$('#pr-more'),
		    `products: every one of 122 reached, then no more button (${all})`);
		await shot('products');
		await page.fill('#pr-q', '绿茶');
		await page.click('#pr-search-form button[type=submit]');
		await page.waitForFunction(() => location.hash.includes('q='));
		const found = await waitRows('#pr-list', 12);
		check(found === 12 && (await rows('#pr-list')).every((r) =>
		    r.includes('绿茶')), `search 绿茶: the 12 with it in the name (${found})`);
		await goto('#/products', '#pr-form');
		await page.fill('#pr-sku', 'NEW-1');
		await page.fill('#pr-name', '新品 白茶');
		await page.fill('#pr-gtin', '4006381333932');
		await page.click('#pr-create');
		await page.waitForSelector('#pr-msg:not([hidden])');
		check(/校验位/.test(await text('#pr-msg')),
		    'a wrong GTIN check digit refused in Chinese');
		await noEnglish('#pr-msg', 'the GTIN refusal');
		check((await get('/api/v1/products/NEW-1')).status === 404,
		    'nothing was created');
		await shot('products-bad-gtin');
		await page.fill('#pr-gtin', '4006381333931');
		await page.check('#pr-gs1');
		await page.fill('#pr-max', '4');
		await page.click('#pr-create');
		await page.waitForFunction(() => location.hash.includes('NEW-1'));
		await waitRows('#pr-list', 1);
		let p = (await get('/api/v1/products/NEW-1')).body;
		check(p.name === '新品 白茶' && p.gtin === '04006381333931' &&
		    p.gs1 === true && p.max_scanners === 4,
		    'created through the page: ' + JSON.stringify(p));
		/* At the brand's resolver (its base_url), not this server. */
		const me = (await get('/admin/me')).body;
		const gs1 = await page.getAttribute('#pr-list .pr-gs1-link', 'href');
		check(/^https:\/\/acme\.example$/i.test(me.brand.base_url) &&
		    gs1 === me.brand.base_url.replace(/\/+$/, '') +
		    '/01/04006381333931', `its GS1 Digital Link at the brand's ` +
		    `resolver (${gs1})`);
		check((await page.getAttribute('#pr-list a[href^="#/editor"]', 'href')) ===
		    '#/editor?sku=NEW-1', 'a link to its content in the editor');
		await page.fill('#pr-sku', 'NEW-1');
		await page.fill('#pr-name', 'dup');
		await page.fill('#pr-gtin', '');
		await page.uncheck('#pr-gs1');
		await page.click('#pr-create');
		await page.waitForSelector('#pr-msg:not([hidden])');
		check(/已被/.test(await text('#pr-msg')), 'a taken SKU: said in Chinese');
		await page.click('#pr-list .pr-edit');
		await page.waitForSelector('#modal:not([hidden]) #pr-edit-name');
		await page.fill('#pr-edit-name', '新品 白茶 特级');
		await page.fill('#pr-edit-max', '7');
		await shot('products-edit');
		await page.click('#modal-ok');
		await page.waitForFunction(() => document.querySelector('#pr-list') &&
		    document.querySelector('#pr-list').textContent.includes('特级'));
		p = (await get('/api/v1/products/NEW-1')).body;
		check(p.name === '新品 白茶 特级' && p.max_scanners === 7 &&
		    p.gtin === '04006381333931', 'renamed through the page');
		await goto('#/products?q=Product%20TEA', '#pr-list table');
		await page.locator('#pr-list tbody tr', { hasText: 'Product TEA' })
		    .locator('.pr-show-batches').click();
		await page.waitForSelector('#pr-detail table');
		check(await waitRows('#pr-detail', 2) === 2,
		    'TEA\'s batches, and only its');
		await shot('products-batches');

		/* ---- shipments ---- */
		await goto('#/shipments', '#sh-list table');
		check(await waitRows('#sh-list', 50) === 50 && await page.$('#sh-more'),
		    'shipments: 50 a page, newest first, and "更早的发货单"');
		const first = (await rows('#sh-list'))[0];
		check(/^52/.test(first.trim()) && first.includes('杭州经销商'),
		    'the newest first, the distributor by name: ' + first.slice(0, 40));
		await page.click('#sh-more');
		check(await waitRows('#sh-list', 52) === 52 && !await page.$('#sh-more'),
		    'the older ones appended, then no more');
		await page.selectOption('#sh-filter-status', 'received');
		check(await waitRows('#sh-list', 1) === 1, 'filter: received (one)');
		await page.selectOption('#sh-filter-status', '');
		await page.selectOption('#sh-filter-dist', { label: '宁波经销商' });
		check(await waitRows('#sh-list', 2) === 2, 'filter: a distributor');
		await page.selectOption('#sh-filter-dist', '');
		await shot('shipments');
		/* Ship: two URLs, a compact code, blanks and a repeat. */
		await page.selectOption('#sh-dist', { label: '宁波经销商' });
		await page.fill('#sh-codes', `${tea[0]}\n\n  ${tea[1]}  \n${code(2)}\n` +
		    `${tea[0]}\n`);
		await page.click('#sh-ship');
		await page.waitForSelector('#sh-result:not([hidden])');
		let r = await text('#sh-result');
		check(/发货单 #53：3 个码/.test(r) && r.includes('宁波经销商'),
		    'shipped through the page: ' + r);
		let s = (await get('/api/v1/shipments/53')).body;
		check(s.codes === 3 && s.received_at === null,
		    'the server has shipment 53 with 3 codes');
		await page.fill('#sh-codes', `${tea[3]}\nnonsense-code\n`);
		await page.click('#sh-ship');
		await page.waitForSelector('#sh-result .sh-bad-lines');
		r = await text('#sh-result');
		check(/第 2 行/.test(r) && r.includes('nonsense-code'),
		    'a bad line named: ' + r);
		await noEnglish('#sh-result', 'the refused shipment');
		check((await get('/api/v1/shipments?limit=1')).body.shipments[0].id ===
		    53, 'nothing shipped by the refused list');
		await shot('shipments-bad-line');
		await page.waitForSelector('#sh-list .sh-receive');
		await page.click('#sh-list .sh-receive');
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-ok');
		await page.waitForFunction(() => !document.querySelector('#modal')
		    .hidden === false);
		await page.waitForTimeout(500);
		s = (await get('/api/v1/shipments/53')).body;
		check(s.received_at !== null, 'received through the page');

		/* Pack: items 12, 13 into case 11; case 11 into pallet 21. */
		await page.fill('#ag-parent', tea[10]);
		await page.fill('#ag-children', `${tea[11]}\n${code(12)}`);
		await page.click('#ag-pack');
		await page.waitForSelector('#ag-result.ok');
		r = await text('#ag-result');
		check(/已将 2 件装入/.test(r) && /#12、#13/.test(r),
		    'packed, the contents named: ' + r);
		let c = (await get('/api/v1/codes/' + code(10))).body;
		check(c.children === 2, 'the case holds 2 on the server');
		await page.fill('#ag-parent', tea[20]);
		await page.fill('#ag-children', tea[10]);
		await page.click('#ag-pack');
		await page.waitForFunction(() => /#11/.test(document
		    .querySelector('#ag-result').textContent));
		await page.fill('#ag-parent', tea[25]);
		await page.fill('#ag-children', tea[11]);
		await page.click('#ag-pack');
		await page.waitForSelector('#ag-result.error');
		check(/请先拆箱/.test(await text('#ag-result')),
		    'an item already in a case: refused in Chinese');
		await noEnglish('#ag-result', 'the repacking refusal');
		check((await get('/api/v1/codes/' + code(25))).body.children === 0,
		    'nothing packed by the refusal');
		await shot('packing');

		/* The lookup's wording (review item 11). */
		await goto('#/lookup?code=' + code(20), '#code-facts');
		let f = await text('#code-facts');
		check(/装入 1 件：#11/.test(f), 'the pallet: "装入 1 件：#11" ' + f);
		await goto('#/lookup?code=' + code(10), '#code-facts');
		f = await text('#code-facts');
		check(/装入 2 件：#12、#13/.test(f) && /#21/.test(f),
		    'the case: its contents and its pallet: ' + f);
		await shot('lookup-case');
		const t1 = await text('#timeline');
		check(/装箱 · 装入 2 件/.test(t1) && !/上级包装 11\b/.test(t1),
		    'the case\'s own packing reads "装入 2 件", not "packed into ' +
		    'itself": ' + t1.slice(0, 200));
		await page.click('#code-facts a.code-link[title$="' + code(12) + '"]');
		await page.waitForFunction((k) => location.hash.includes(k), code(12));
		await page.waitForSelector('#timeline');
		f = await text('#code-facts');
		const tl = await text('#timeline');
		check(/#11 → #21/.test(f), 'the item: inside #11 → #21, links: ' + f);
		check(/装入上级包装 #11/.test(tl) && /上级包装 #11 · 装箱 · 装入上级包装 #21/
		    .test(tl), 'the item\'s timeline holds the case → pallet step: ' +
		    tl.slice(0, 300));
		await shot('lookup-item');
		await goto('#/lookup?code=' + code(0), '#timeline');
		check(/经销商 宁波经销商/.test(await text('#timeline')) &&
		    !/经销商 #\d/.test(await text('#timeline')),
		    'the timeline names the distributor');
		await goto('#/shipments', '#ag-form');
		/* Unpack everything from the pallet (a confirmation first). */
		await page.fill('#ag-parent', tea[20]);
		await page.click('#ag-unpack');
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-ok');
		await page.waitForSelector('#ag-result.ok');
		check(/已取出 1 件/.test(await text('#ag-result')), 'unpacked');
		check((await get('/api/v1/codes/' + code(20))).body.children === 0,
		    'the pallet is empty on the server');

		/* ---- catalog and tiers ---- */
		await goto('#/catalog', '#ca-item-form');
		await page.fill('#ca-item-name', '品鉴杯');
		await page.fill('#ca-item-cost', '0');
		await page.click('#ca-item-add');
		await page.waitForSelector('#ca-item-msg:not([hidden])');
		check((await get('/api/v1/catalog/items')).body.items.length === 0,
		    'cost 0 refused, nothing added');
		await page.fill('#ca-item-cost', '30');
		await page.click('#ca-item-add');
		await page.waitForFunction(() => document.querySelector('#ca-items') &&
		    document.querySelector('#ca-items').textContent.includes('品鉴杯'));
		let items = (await get('/api/v1/catalog/items')).body.items;
		check(items.length === 1 && items[0].cost === 30 &&
		    items[0].stock === null, 'an item added: ' + JSON.stringify(items));
		await page.waitForSelector('#ca-tiers .ca-tier');
		check(await page.$eval('#ca-tiers .ca-tier-min', (e) => e.disabled &&
		    e.value === '0'), 'the first tier is fixed at 0');
		const mins = await page.$$('#ca-tiers .ca-tier-min');
		await mins[1].fill('0');
		check(await page.$eval('#ca-tiers-save', (e) => e.disabled) &&
		    /第 2 级/.test(await text('#ca-tier-problem')),
		    'a tier not above the one before: save off, the reason shown');
		await shot('tiers-wrong');
		await mins[1].fill('300');
		await page.click('#ca-tier-add');
		const names = await page.$$('#ca-tiers .ca-tier-name');
		check(await page.$eval('#ca-tiers-save', (e) => e.disabled),
		    'a nameless new tier: save off');
		await names[3].fill('钻石');
		await (await page.$$('#ca-tiers .ca-tier-min'))[3].fill('5000');
		await page.click('#ca-tiers-save');
		await page.waitForTimeout(500);
		let tiers = (await get('/api/v1/settings')).body.tiers;
		check(tiers.length === 4 && tiers[1].min === 300 &&
		    tiers[3].name === '钻石' && tiers[3].min === 5000,
		    'tiers saved: ' + JSON.stringify(tiers));
		for (let i = 0; i < 4; i++)
			await page.click('#ca-tier-add');
		check(await page.$eval('#ca-tier-add', (e) => e.disabled) &&
		    (await page.$$('#ca-tiers .ca-tier')).length === 8,
		    'at most 8 tiers');
		await goto('#/overview', '#kpi-scans');
		await goto('#/catalog', '#ca-tiers .ca-tier');
		await page.click('#ca-tiers .ca-tier-remove');
		await page.click('#ca-tiers-save');
		await page.waitForTimeout(500);
		tiers = (await get('/api/v1/settings')).body.tiers;
		check(tiers.length === 3 && tiers[0].min === 0 && tiers[1].min < tiers[2].min,
		    'a tier removed and saved: ' + JSON.stringify(tiers));
		await shot('catalog');

		/* ---- webhooks ---- */
		await goto('#/webhooks', '#wh-form');
		await page.fill('#wh-url', 'http://10.1.2.3/hook');
		await page.click('#wh-create');
		await page.waitForSelector('#wh-msg:not([hidden])');
		check(/不允许/.test(await text('#wh-msg')),
		    'a private-network receiver refused in Chinese');
		await noEnglish('#wh-msg', 'the refused webhook');
		await page.fill('#wh-url', 'http://127.0.0.1:9/sigil');
		await page.check('#wh-form .wh-event[value=claim]');
		await page.click('#wh-create');
		await page.waitForSelector('#wh-secret:not([hidden])');
		const secret = await page.inputValue('#wh-secret-value');
		const hooks = (await get('/api/v1/webhooks')).body.webhooks;
		check(/^[0-9a-f]{64}$/.test(secret) && hooks.length === 1 &&
		    hooks[0].events.join() === 'scan,claim' && !hooks[0].secret,
		    'created, the secret shown once: ' + JSON.stringify(hooks));
		await page.waitForSelector('#wh-list table');
		check(/尚未投递/.test(await text('#wh-list')) &&
		    /已投递 0/.test(await text('#wh-list')), 'its delivery status');
		await shot('webhooks');
		await page.click('#wh-list .wh-delete');
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-cancel');
		check((await get('/api/v1/webhooks')).body.webhooks.length === 1,
		    'cancelled: still there');
		await page.click('#wh-list .wh-delete');
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-ok');
		await page.waitForFunction(() => /还没有/.test(document
		    .querySelector('#wh-list').textContent));
		check((await get('/api/v1/webhooks')).body.webhooks.length === 0,
		    'deleted after the confirmation');
		/* More than a page (100): the rest behind "加载更多". */
		const made = await page.evaluate(async () => {
			const ids = [];
			for (let i = 0; i < 105; i++)
				ids.push((await window.sigilAdmin.api('POST',
				    '/api/v1/webhooks', { url: `http://127.0.0.1:9/h${i}`,
				    events: ['customer'] })).id);
			return ids;
		});
		await goto('#/overview', '#kpi-scans');
		await goto('#/webhooks', '#wh-list table');
		check(await waitRows('#wh-list', 100) === 100 &&
		    await page.$('#wh-more'), 'webhooks: 100 a page and "加载更多"');
		await page.click('#wh-more');
		const allHooks = await waitRows('#wh-list', 105);
		const shownIds = await page.$$eval('#wh-list tbody tr td:first-child',
		    (l) => l.map((x) => Number(x.textContent)));
		check(allHooks === 105 && !await page.$('#wh-more') &&
		    shownIds.join() === made.join(), 'webhooks: all 105 reached in ' +
		    `order, then no more button (${allHooks})`);
		await shot('webhooks-more');
		await page.evaluate(async (ids) => {
			for (const id of ids)
				await window.sigilAdmin.api('DELETE',
				    `/api/v1/webhooks/${id}`);
		}, made);
		check((await get('/api/v1/webhooks')).body.webhooks.length === 0,
		    'the 105 removed again');

		/* ---- the tablet ---- */
		await page.setViewportSize({ width: 1024, height: 768 });
		for (const [hash, sel] of [['#/products', '#pr-list table'],
		    ['#/shipments', '#sh-list table'], ['#/catalog', '#ca-tiers'],
		    ['#/webhooks', '#wh-form']]) {
			await goto(hash, sel);
			const w = await page.evaluate(() =>
			    document.documentElement.scrollWidth);
			check(w <= 1024, `${hash} fits 1024 px (${w})`);
			await shot('tablet-' + hash.slice(2));
		}
		await page.setViewportSize({ width: 1440, height: 900 });

		/* ---- English, once ---- */
		await page.click('#lang');
		await goto('#/products', '#pr-list table');
		check(/Products/.test(await text('#main h1')) &&
		    /More products/.test(await text('#main')), 'products in English');
		await shot('products-en');
		await goto('#/shipments', '#sh-list table');
		check(/Shipments/.test(await text('#main h1')) &&
		    /In transit|Received/.test(await text('#sh-list')),
		    'shipments in English');
		await shot('shipments-en');
		await goto('#/lookup?code=' + code(10), '#code-facts');
		check(/holds 1 item: #12/.test(await text('#code-facts')) ||
		    /holds \d items?: #/.test(await text('#code-facts')),
		    'the lookup in English: ' + await text('#code-facts'));
		await shot('lookup-en');
		await goto('#/catalog', '#ca-tiers');
		check(/Member tiers/.test(await text('#main')), 'catalog in English');
		await shot('catalog-en');
		await goto('#/webhooks', '#wh-form');
		check(/New webhook/.test(await text('#main')), 'webhooks in English');
		await shot('webhooks-en');
		await page.click('#lang');

		/* ---- an analyst: no change offered ---- */
		await page.click('#logout');
		await page.waitForSelector('#login-form');
		await login(analyst);
		const offered = [];
		for (const [hash, sel] of [['#/products', '#pr-list table'],
		    ['#/shipments', '#sh-list table'], ['#/catalog', '#ca-tiers'],
		    ['#/webhooks', '#wh-admin-only']]) {
			await goto(hash, sel);
			await page.waitForTimeout(300);
			for (const bad of ['#pr-form', '.pr-edit', '#sh-form', '#ag-form',
			    '.sh-receive', '#ca-item-form', '#ca-tiers-save', '#wh-form',
			    '.wh-delete'])
				if (await page.$(bad))
					offered.push(hash + ' ' + bad);
		}
		check(offered.length === 0, 'the analyst is offered no change: ' +
		    JSON.stringify(offered));
		await goto('#/catalog', '#ca-tiers .ca-tier-name');
		check(await page.$$eval('#ca-tiers input', (l) => l.length > 0 &&
		    l.every((e) => e.disabled)), 'the analyst sees the tiers ' +
		    'read-only');
		await goto('#/products?q=Product%20TEA', '#pr-list table');
		await page.locator('#pr-list tbody tr', { hasText: 'Product TEA' })
		    .locator('.pr-show-batches').click();
		await page.waitForSelector('#pr-detail table');
		await shot('analyst-products');
	} finally {
		await browser.close();
	}
	check(facts.dialogs.length === 0, 'no dialog fired: ' +
	    JSON.stringify(facts.dialogs));
	check(facts.console_errors.length === 0, 'no console errors: ' +
	    JSON.stringify(facts.console_errors));
	facts.failures = tally.failures;
	process.stdout.write(JSON.stringify(facts) + '\n');
	return tally.failures === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((rc) => process.exit(rc)).catch((e) => {
	process.stderr.write(`supply.js: ${e && e.stack ? e.stack : e}\n`);
	process.stdout.write(JSON.stringify({ failures: tally.failures + 1,
	    error: String(e && e.message ? e.message : e) }) + '\n');
	process.exit(1);
});
