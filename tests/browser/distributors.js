#!/usr/bin/env node
/*
 * distributors.js - the distributors page (issue 19 item 5) in Debian's
 * headless Chromium, as a brand admin and an analyst use it:
 *
 *   the list with GLN; a distributor's territory drawn on the map; a new
 *   distributor: a wrong GLN refused (the field marked, the message in
 *   the page's language); provinces picked by clicking them on the map;
 *   a polygon whose corners are all one spot refused by the server (422
 *   bad_territory, shown localised: no English in zh-CN), then undone; a
 *   real polygon drawn by its corners; saved: the detail page draws the
 *   territory the server kept; then edited (the editor starts from the
 *   territory as it is, drawn): a wrong GLN refused, then a new name
 *   (and in zh-CN a province more: Fujian) saved; an analyst sees the
 *   list, no create, no edit.
 *
 *   node tests/browser/distributors.js BASE ADMIN ANALYST OUTDIR LOCALE NAME
 *
 * zh-CN picks Zhejiang and Jiangsu and draws a triangle; en-US picks
 * Guangdong only. The password is SIGIL_TEST_PASSWORD. Prints one line
 * per check, then one line of JSON {"failures", "console_errors",
 * "shots", "created", "edited"} (edited: the name it was given).
 */
'use strict';

const path = require('path');
const { check, launch, tally } = require('./lib');

/* Where on the page a [lng, lat] of the map is. */
async function pixel(page, lng, lat) {
	return page.evaluate(([x, y]) => {
		const box = document.querySelector('#ds-map .map-box');
		const p = window.echarts.getInstanceByDom(box)
		    .convertToPixel({ geoIndex: 0 }, [x, y]);
		const r = box.getBoundingClientRect();
		return [r.left + p[0], r.top + p[1]];
	}, [lng, lat]);
}

async function main(argv) {
	if (argv.length !== 6) {
		process.stderr.write('usage: node distributors.js BASE ADMIN ' +
		    'ANALYST OUTDIR LOCALE NAME\n');
		process.exit(2);
	}
	const [base, admin, analyst, outdir, locale, name] = argv;
	const zh = locale.startsWith('zh');
	const pw = process.env.SIGIL_TEST_PASSWORD;
	const facts = { console_errors: [], shots: [], created: null };
	const browser = await launch();
	try {
		const context = await browser.newContext({
			viewport: { width: 1440, height: 900 }, locale,
			timezoneId: 'Asia/Shanghai' });
		const page = await context.newPage();
		page.on('console', (m) => {
			/* 401: /admin/me before login; 422: the refusals tried;
			 * 404: the unknown distributor asked for. */
			if (m.type() === 'error' &&
			    !/status of (401|404|422)/.test(m.text()))
				facts.console_errors.push(m.text());
		});
		page.on('pageerror', (e) => facts.console_errors.push(String(e)));
		page.on('dialog', (d) => {
			facts.console_errors.push('dialog: ' + d.message());
			d.dismiss();
		});
		const shot = async (n) => {
			const file = path.join(outdir, `distributors-${locale}-${n}.png`);
			await page.waitForTimeout(200);
			await page.screenshot({ path: file, fullPage: true });
			facts.shots.push(file);
		};
		const login = async (email) => {
			await page.goto(base + '/admin/', { waitUntil: 'load' });
			await page.waitForSelector('#login-form');
			await page.fill('#login-email', email);
			await page.fill('#login-password', pw);
			await page.click('#login-form button[type=submit]');
			await page.waitForSelector('#nav a[data-group=trace]',
			    { timeout: 10000 });
		};
		await login(admin);
		await page.click('#nav a[data-group=trace]');
		await page.click('#subnav a[data-page=distributors]');
		await page.waitForSelector('#ds-list table', { timeout: 10000 });
		const list = await page.textContent('#ds-list table');
		check(list.includes('宁波港贸易') && list.includes('9520123456788'),
		    'the list shows the distributor and its GLN');
		const xss = '<img src=x onerror="window.__xss=1">';
		check(list.includes(xss) && !(await page.$('#ds-list img')),
		    'a name like markup is shown as text');
		let rows = await page.$$eval('#ds-list tbody tr', (l) => l.length);
		check(rows === 50 && !!(await page.$('#ds-more')),
		    `the first page: 50 rows and "more" (${rows})`);
		await shot('list');
		await page.click('#ds-more');
		await page.waitForFunction(() => document.querySelectorAll(
		    '#ds-list tbody tr').length > 50, null, { timeout: 10000 });
		rows = await page.$$eval('#ds-list tbody tr', (l) => l.length);
		const ids = await page.$$eval('#ds-list tbody tr td:first-child',
		    (l) => l.map((x) => Number(x.textContent)));
		check(rows > 50 && !(await page.$('#ds-more')) &&
		    new Set(ids).size === ids.length &&
		    ids.every((x, i) => i === 0 || x > ids[i - 1]),
		    `"more": the rest, in id order, none twice (${rows} rows)`);
		await shot('list-more');
		await page.click('a[data-page=ds-view-2]');
		await page.waitForSelector('#ds-map .map-box svg path',
		    { timeout: 15000 });
		await page.waitForTimeout(300);
		const box = await page.$('#ds-map .map-box');
		const bb = await box.boundingBox();
		for (let i = 0; i < 12; i++)	/* tooltips over the territory */
			await page.mouse.move(bb.x + bb.width * (0.3 + i * 0.04),
			    bb.y + bb.height * (0.5 + (i % 3) * 0.05));
		check(await page.textContent('#ds-detail h1') === xss &&
		    !(await page.$('#main img')) &&
		    await page.evaluate(() => window.__xss) === undefined,
		    'its detail and map: the name as text, no markup run');
		await page.goBack();
		await page.waitForSelector('#ds-list table', { timeout: 10000 });
		await page.evaluate(() => window.scrollTo(0, 0));

		/* One distributor: its territory drawn. */
		await page.click('#ds-list a.button');
		await page.waitForSelector('#ds-map .map-box svg path',
		    { timeout: 15000 });
		await page.waitForTimeout(300);
		const drawn = await page.evaluate(() => window.echarts
		    .getInstanceByDom(document.querySelector('#ds-map .map-box'))
		    .getOption().series.filter((s) => s.type === 'custom')
		    .map((s) => s.data.length));
		check(drawn[0] === 1, `its territory drawn on the map (${drawn})`);
		check((await page.textContent('#ds-detail')).includes(
		    '9520123456788'), 'the detail shows the GLN');
		check(await page.getAttribute('#ds-shipments', 'href') ===
		    '#/shipments?distributor=1', 'a link to its shipments');
		await shot('detail');

		/* A new one. */
		await page.click('#subnav a[data-page=distributors]');
		await page.waitForSelector('#ds-new', { timeout: 10000 });
		await page.click('#ds-new');
		await page.waitForSelector('#ds-map .map-box svg path',
		    { timeout: 15000 });
		await page.waitForTimeout(400);
		await page.fill('#ds-name', name);
		await page.fill('#ds-gln', '9520123456787');
		const picks = zh ? [[120.15, 29.3], [119.4, 33.2]] : [[113.4, 23.6]];
		for (const [lng, lat] of picks) {
			const [x, y] = await pixel(page, lng, lat);
			await page.mouse.click(x, y);
			await page.waitForTimeout(200);
		}
		const picked = await page.textContent('#ds-picked');
		check(zh ? picked.includes('浙江') && picked.includes('江苏') :
		    picked.includes('Guangdong'), `provinces picked by clicking ` +
		    `them on the map (${picked})`);
		const size = await page.textContent('#ds-size');
		check(/KiB/.test(size), `the territory's size shown (${size})`);
		await shot('picked');

		/* Leaving with picks not saved asks in the page; cancel stays. */
		await page.click('#subnav a[data-page=geo]');
		await page.waitForSelector('#modal:not([hidden])', { timeout: 5000 });
		await shot('leave-confirm');
		await page.click('#modal-cancel');
		await page.waitForTimeout(200);
		check(!!(await page.$('#ds-form')) &&
		    (await page.textContent('#ds-picked')) === picked &&
		    /#\/distributors\?new=1$/.test(page.url()),
		    'leaving with picks not saved asks; cancel keeps them');

		await page.click('#ds-save');
		await page.waitForSelector('#ds-error:not([hidden])',
		    { timeout: 10000 });
		let err = await page.textContent('#ds-error');
		check(zh ? err.includes('GLN 无效') && !/[a-z]{4}/.test(err) :
		    /Not a GLN/.test(err), `a wrong GLN refused: "${err}"`);
		check(await page.getAttribute('#ds-gln', 'aria-invalid') === 'true',
		    'the GLN field is marked');
		await page.fill('#ds-gln', zh ? '9520123456788' : '');

		/* Corners: three clicks on one spot make no area. */
		await page.click('#ds-mode-corners');
		const [cx, cy] = await pixel(page, zh ? 117.2 : 110.3,
		    zh ? 31.8 : 20.0);
		for (let i = 0; i < 3; i++) {
			await page.mouse.click(cx, cy);
			await page.waitForTimeout(120);
		}
		check(await page.textContent('#ds-corners') === '3',
		    'three corners clicked');
		await page.click('#ds-close-ring');
		await page.click('#ds-save');
		await page.waitForFunction(() => /面积为零|zero area/.test(
		    document.querySelector('#ds-error').textContent), null,
		    { timeout: 10000 }).catch(() => {});
		err = await page.textContent('#ds-error');
		check(zh ? /经销区域无效：第 \d+ 个多边形第 1 个环：面积为零/.test(err) &&
		    !/[a-z]{4}/.test(err) : /not valid: polygon \d+, ring 1: it has zero area/.test(err),
		    `the server's bad_territory, localised: "${err}"`);
		await shot('bad-territory');
		await page.click('#ds-undo');
		check(await page.textContent('#ds-drawn') === '0',
		    'undo takes the bad polygon away');
		if (zh) {
			/* A real triangle in Anhui, by its corners. */
			for (const [lng, lat] of [[116.8, 31.6], [117.6, 31.6],
			    [117.2, 32.3]]) {
				const [x, y] = await pixel(page, lng, lat);
				await page.mouse.click(x, y);
				await page.waitForTimeout(120);
			}
			await page.click('#ds-close-ring');
			check(await page.textContent('#ds-drawn') === '1',
			    'a triangle drawn by its corners');
		}
		await shot('ready');
		await page.click('#ds-save');
		await page.waitForSelector('#ds-detail h1', { timeout: 10000 });
		await page.waitForSelector('#ds-map .map-box svg path',
		    { timeout: 15000 });
		await page.waitForTimeout(300);
		const h1 = await page.textContent('#ds-detail h1');
		facts.created = (page.url().match(/id=(\d+)/) || [])[1] || null;
		const polys = await page.evaluate(() => window.echarts
		    .getInstanceByDom(document.querySelector('#ds-map .map-box'))
		    .getOption().series.filter((s) => s.type === 'custom')
		    .map((s) => s.data.length));
		check(h1 === name && facts.created && polys[0] >= (zh ? 3 : 1),
		    `saved, and the detail draws the territory the server kept ` +
		    `(${polys[0]} polygons)`);
		await shot('created');

		/* Edit it: the form starts from what the server has. */
		check(!!(await page.$('#ds-edit')), 'an admin: an edit button');
		await page.click('#ds-edit');
		await page.waitForSelector('#ds-form', { timeout: 10000 });
		await page.waitForSelector('#ds-map .map-box svg path',
		    { timeout: 15000 });
		await page.waitForTimeout(400);
		check(await page.inputValue('#ds-name') === name &&
		    await page.textContent('#ds-drawn') === String(polys[0]) &&
		    /KiB/.test(await page.textContent('#ds-size')),
		    `the edit form starts from the distributor: its name, and its ` +
		    `territory drawn (${await page.textContent('#ds-drawn')} ` +
		    'polygons)');
		await shot('edit');
		await page.click('#ds-save');
		await page.waitForSelector('#ds-error:not([hidden])',
		    { timeout: 10000 });
		err = await page.textContent('#ds-error');
		check(err === (zh ? '没有修改' : 'Nothing changed'),
		    `saving with nothing changed says so: "${err}"`);
		await page.fill('#ds-gln', '9520123456780');
		await page.click('#ds-save');
		await page.waitForFunction(() => /GLN/.test(
		    document.querySelector('#ds-error').textContent), null,
		    { timeout: 10000 });
		err = await page.textContent('#ds-error');
		check(zh ? err.includes('GLN 无效') && !/[a-z]{4}/.test(err) :
		    /Not a GLN/.test(err), `edit: a wrong GLN refused: "${err}"`);
		await shot('edit-bad-gln');
		await page.fill('#ds-gln', zh ? '9520123456788' : '');
		facts.edited = zh ? name + '（新）' : name + ' Ltd';
		await page.fill('#ds-name', facts.edited);
		if (zh) {
			/* One province more, by a click: Fujian. */
			const [x, y] = await pixel(page, 118.6, 26.8);
			await page.mouse.click(x, y);
			await page.waitForTimeout(200);
			check((await page.textContent('#ds-picked')).includes('福建'),
			    'edit: Fujian added by clicking it');
		}
		await shot('edit-ready');
		await page.click('#ds-save');
		await page.waitForFunction((n) => {
			const h = document.querySelector('#ds-detail h1');
			return h && h.textContent === n;
		}, facts.edited, { timeout: 10000 });
		await page.waitForSelector('#ds-map .map-box svg path',
		    { timeout: 15000 });
		await page.waitForTimeout(300);
		check(/id=\d+$/.test(page.url()) && !/edit/.test(page.url()),
		    `saved: the detail shows the new name "${facts.edited}"`);
		await shot('edited');
		if (zh) {
			/* Every province at once: still far under the API's 1 MiB,
			 * and a territory the server takes. */
			const all = await page.evaluate(async () => {
				const g = window.sigilMap.territory(
				    window.sigilMap.provinces());
				try {
					const d = await window.sigilAdmin.api('POST',
					    '/api/v1/distributors', { name: '全国',
					    territory: g });
					return { id: d.id, bytes: JSON.stringify(g).length };
				} catch (e) {
					return { error: e.code + ' ' + e.message };
				}
			});
			check(all.id && all.bytes < 300 * 1024, `all 34 provinces: ` +
			    `${all.bytes} bytes, accepted (${JSON.stringify(all)})`);
		}

		await page.evaluate(() => { location.hash = '#/distributors?id=999'; });
		await page.waitForSelector('#ds-detail .notice', { timeout: 10000 });
		const nf = await page.textContent('#ds-detail .notice');
		check(zh ? nf === '没有这个经销商。' : nf === 'No such distributor.',
		    `an unknown distributor, said in the page's language: "${nf}"`);

		/* An analyst: the list, no create. */
		await page.click('#logout');
		await login(analyst);
		await page.evaluate(() => { location.hash = '#/distributors?new=1'; });
		await page.waitForSelector('#ds-list table', { timeout: 10000 });
		check(!(await page.$('#ds-new')) && !(await page.$('#ds-form')),
		    'an analyst: the list, no create button or form');
		await shot('analyst');
		await page.evaluate(() => { location.hash = '#/distributors?id=1&edit=1'; });
		await page.waitForSelector('#ds-detail h1', { timeout: 10000 });
		check(!(await page.$('#ds-edit')) && !(await page.$('#ds-form')),
		    'an analyst: the detail, no edit button or form');
	} finally {
		await browser.close();
	}
	process.stdout.write(JSON.stringify(Object.assign(
	    { failures: tally.failures }, facts)) + '\n');
	process.exit(tally.failures ? 1 : 0);
}

main(process.argv.slice(2)).catch((e) => {
	process.stdout.write('FAIL ' + (e && e.stack || e) + '\n');
	process.stdout.write(JSON.stringify({ failures: tally.failures + 1 }) +
	    '\n');
	process.exit(1);
});
