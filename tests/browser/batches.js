#!/usr/bin/env node
/*
 * batches.js - the dashboard's batches page (issue 19 items 5 and 8) in
 * Debian's headless Chromium, in Shanghai time and zh-CN (and once in
 * English), as a packaging-line operator uses it:
 *
 *   create a batch of a product picked from the catalog (or, where the
 *   server has no product list, a typed SKU: a typo is refused in
 *   Chinese, with no English server text); a bad lot refused in Chinese;
 *   activate it; open its print files and download every format with
 *   the API's options (label stock, cut marks, caption, DPI, module
 *   size): the files are saved in OUTDIR/downloads for the driver to
 *   check (unzip -t, zbarimg, pdfinfo); a bad DPI disables the download;
 *   the panel says where PIN files come from; revoke, cancelled once and
 *   then confirmed in the page; the English page; 1024x768; an analyst is
 *   offered no change and no download.
 *
 *   node tests/browser/batches.js BASE_URL ADMIN_EMAIL ANALYST_EMAIL OUTDIR
 *
 * The password is SIGIL_TEST_PASSWORD. Prints one line per check, then
 * one line of JSON {"failures", "dialogs", "console_errors", "shots",
 * "downloads": {file: path}, "batch": id}.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { check, dashboard, finish, launch, run, shooter, watch,
    zhPage } = require('./lib');

async function main(argv) {
	if (argv.length !== 4) {
		process.stderr.write('usage: node batches.js BASE ADMIN ANALYST ' +
		    'OUTDIR\n');
		process.exit(2);
	}
	const [base, admin, analyst, outdir] = argv;
	const facts = { dialogs: [], console_errors: [], shots: [],
	    downloads: {} };
	const dldir = path.join(outdir, 'batches-downloads');
	fs.mkdirSync(dldir, { recursive: true });
	const browser = await launch();
	try {
		const page = await zhPage(browser);
		/* 4xx answers the page expects and shows. */
		watch(page, facts, { allow: [401, 404, 405, 422] });
		const shot = shooter(page, facts, outdir, 'batches-');
		const { get, goto, login } = dashboard(page, base);

		await login(admin);
		await goto('#/batches', '#batch-form');
		check(await page.getAttribute('nav#nav [data-group=production]',
		    'href') === '#/batches' || (await page.$(
		    '#subnav [data-page=batches]')) !== null,
		    'the nav leads to 批次 in the production group');
		await shot('empty');
		const before = (await get('/api/v1/batches')).batches.length;
		const picker = !!(await page.$('#bt-product'));
		check(true, 'product picker: ' + (picker ? 'GET /api/v1/products' :
		    'typed SKU (no product list on this server)'));

		/* A product that does not exist (typed SKU only; see the
		 * simulated server without a product list below). */
		if (!picker) {
			await page.fill('#bt-sku', 'NOPE-1');
			await page.fill('#bt-count', '5');
			await page.click('#batch-form button[type=submit]');
			await page.waitForSelector('#bt-error:not([hidden])');
			const e = await page.textContent('#bt-error');
			check(/找不到该产品/.test(e) && !/not found/i.test(e),
			    'an unknown SKU is refused in Chinese: ' + e);
			await shot('unknown-sku');
		}
		const pick = async (sku) => {
			if (picker) {
				await page.fill('#bt-product-q', sku);
				await page.waitForFunction((s) => [...document
				    .querySelectorAll('#bt-product option')].some(
				    (o) => o.value === s), sku, { timeout: 10000 });
				await page.selectOption('#bt-product', sku);
			} else
				await page.fill('#bt-sku', sku);
		};
		/* A bad lot: refused by the server, shown in Chinese. */
		await pick('TEA');
		await page.fill('#bt-count', '30');
		await page.fill('#bt-lot', 'L 2026/A');
		await page.click('#batch-form button[type=submit]');
		await page.waitForSelector('#bt-error:not([hidden])');
		const lotErr = await page.textContent('#bt-error');
		check(/输入有误/.test(lotErr) && /批号/.test(lotErr) &&
		    !/[a-z]{4,}/.test(lotErr), 'a bad lot is refused in Chinese, ' +
		    'naming the field: ' + lotErr);
		await shot('bad-lot');
		check((await get('/api/v1/batches')).batches.length === before,
		    'nothing was created by the refusals');

		/* Create. */
		await page.fill('#bt-lot', 'L2026A');
		await page.fill('#bt-expires', '2028-12-31');
		await page.click('#batch-form button[type=submit]');
		await page.waitForSelector('.bt-panel', { timeout: 10000 });
		const list = (await get('/api/v1/batches')).batches;
		const b = list[list.length - 1];
		facts.batch = b.id;
		check(list.length === before + 1 && b.sku === 'TEA' &&
		    b.count === 30 && b.lot === 'L2026A' && b.state === 'inactive',
		    'the batch is created: ' + JSON.stringify(b));
		const row = page.locator('#main table tbody tr', {
		    hasText: 'L2026A' }).first();
		check(/未激活/.test(await row.textContent()),
		    'its row says 未激活');
		await shot('created');

		/* Activate. */
		await row.locator('.bt-activate').click();
		await page.waitForFunction(() => /已激活/.test((document
		    .querySelector('#main table tbody') || {}).textContent),
		    null, { timeout: 10000 });
		check((await get('/api/v1/batches/' + b.id)).state === 'active',
		    'activated through the page');
		await page.waitForSelector(`#bt-panel-${b.id}`);
		await shot('activated');

		/* The PIN note. */
		const pin = await page.textContent(`#bt-panel-${b.id} .bt-pin`);
		check(pin.includes(`sigil mint --batch ${b.id} --format csv --pin`) &&
		    /暗码/.test(pin), 'the panel says where PIN files come from');

		/* Every format, with options. */
		const dl = async (file, setup, name) => {
			await page.selectOption(`#bt-format-${b.id}`, file);
			if (setup)
				await setup();
			const href = await page.getAttribute(`#bt-download-${b.id}`,
			    'href');
			const [d] = await Promise.all([
			    page.waitForEvent('download', { timeout: 120000 }),
			    page.click(`#bt-download-${b.id}`)]);
			const to = path.join(dldir, name);
			await d.saveAs(to);
			facts.downloads[name] = to;
			check(fs.statSync(to).size > 0, `downloaded ${name} (${href})`);
			return href;
		};
		await dl('codes.csv', null, 'codes.csv');
		await dl('codes.txt', null, 'codes.txt');
		await page.selectOption(`#bt-format-${b.id}`, 'labels.pdf');
		check(!(await page.isHidden(`#bt-stock-${b.id}`)) &&
		    await page.isHidden(`#bt-dpi-${b.id}`),
		    'PDF: stock shown, DPI hidden');
		await shot('panel-pdf');
		let href = await dl('labels.pdf', async () => {
			await page.selectOption(`#bt-stock-${b.id}`, 'a4-3x7');
			await page.check(`#bt-cut-${b.id}`);
		}, 'labels-a4-3x7.pdf');
		check(/stock=a4-3x7/.test(href) && /cut_marks=1/.test(href),
		    'the PDF link carries stock and cut marks');
		href = await dl('labels.pdf', async () => {
			await page.selectOption(`#bt-stock-${b.id}`, '50x30');
			await page.uncheck(`#bt-cut-${b.id}`);
			await page.selectOption(`#bt-caption-${b.id}`, 'serial');
		}, 'labels-50x30.pdf');
		check(/stock=50x30/.test(href) && /caption=serial/.test(href),
		    'thermal stock, serial caption');
		await page.selectOption(`#bt-format-${b.id}`, 'labels-png.zip');
		await page.selectOption(`#bt-caption-${b.id}`, 'full');
		/* A bad DPI: the download is disabled, said in Chinese. */
		await page.fill(`#bt-dpi-${b.id}`, '10');
		check(await page.getAttribute(`#bt-download-${b.id}`, 'href') ===
		    null && /分辨率须为/.test(await page.textContent(
		    `#bt-panel-${b.id}`)), 'DPI 10: no download, said in Chinese');
		await shot('panel-bad-dpi');
		href = await dl('labels-png.zip', async () => {
			await page.fill(`#bt-dpi-${b.id}`, '600');
			await page.fill(`#bt-module-${b.id}`, '0.5');
		}, 'labels-png.zip');
		check(/dpi=600/.test(href) && /module=0.5/.test(href),
		    'PNG: dpi and module in the link');
		check(/0\.508 mm \(12 px @ 600 dpi\)/.test(await page.textContent(
		    `#bt-panel-${b.id}`)), 'the printed module size is shown');
		await shot('panel-png');
		href = await dl('labels-svg.zip', async () => {
			await page.fill(`#bt-module-${b.id}`, '0.6');
		}, 'labels-svg.zip');
		check(/module=0.6/.test(href) && !/dpi/.test(href),
		    'SVG: module, no DPI');

		/* Revoke: cancelled once, then confirmed. */
		await row.locator('.bt-revoke').click();
		await page.waitForSelector('#modal:not([hidden])');
		check(/L2026A/.test(await page.textContent('#modal-body')) &&
		    /不可撤销/.test(await page.textContent('#modal-body')),
		    'the confirmation names the batch and says it is final');
		await shot('revoke-confirm');
		await page.click('#modal-cancel');
		await page.waitForTimeout(300);
		check((await get('/api/v1/batches/' + b.id)).state === 'active',
		    'cancelled: still active');
		await row.locator('.bt-revoke').click();
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-ok');
		await page.waitForFunction(() => /已作废/.test((document
		    .querySelector('#main table tbody') || {}).textContent),
		    null, { timeout: 10000 });
		check((await get('/api/v1/batches/' + b.id)).state === 'revoked',
		    'revoked through the page');
		await shot('revoked');

		/* Paging: newest first, 50 a page, "更早的批次" for the rest,
		 * where the server pages its list. */
		await goto('#/batches', '#main table');
		const paged = 'next' in await get('/api/v1/batches?' +
		    'order=newest&limit=1');
		const count = async () => (await page.$$('#main table tbody tr'))
		    .length;
		const total = (await get('/api/v1/batches?limit=1000')).batches
		    .length;
		if (paged) {
			check(await count() === 50 && !!(await page.$('#bt-more')),
			    'the list shows 50 and offers the rest');
			check(/L2026A/.test(await page.textContent(
			    '#main table tbody tr')), 'newest first');
			await page.click('#bt-more');
			await page.waitForFunction((n) => document.querySelectorAll(
			    '#main table tbody tr').length === n, total,
			    { timeout: 10000 });
			check(!(await page.$('#bt-more')), `all ${total} after ` +
			    '"more", and no more button');
			await shot('paged');
		} else
			check(await count() === total && /L2026A/.test(
			    await page.textContent('#main table tbody tr')),
			    `a server without paging: all ${total} at once, newest first`);

		/* #/batches?sku=TEA: the form comes with TEA picked. */
		await goto('#/batches?sku=TEA', '#batch-form');
		const picked = await page.$('#bt-product') ?
		    await page.inputValue('#bt-product') :
		    await page.inputValue('#bt-sku');
		check(picked === 'TEA', '#/batches?sku=TEA picks TEA: ' + picked);

		/* A server without the product list (simulated: its answer is
		 * replaced by a 404): the SKU is typed and checked with GET
		 * /api/v1/products/{sku} (real) before the batch is asked for. */
		await page.route(/\/api\/v1\/products\?/, (r) => r.fulfill({
		    status: 404, contentType: 'application/json',
		    body: '{"error":{"code":"not_found","message":"no such ' +
		    'resource"}}' }));
		await goto('#/batches?sku=', '#bt-sku');
		const n0 = (await get('/api/v1/batches?limit=1000')).batches.length;
		await page.fill('#bt-sku', 'NOPE-1');
		await page.fill('#bt-count', '2');
		await page.click('#batch-form button[type=submit]');
		await page.waitForSelector('#bt-error:not([hidden])');
		const typedErr = await page.textContent('#bt-error');
		check(/找不到该产品/.test(typedErr) && !/not found/i.test(typedErr),
		    'typed SKU: an unknown one refused in Chinese: ' + typedErr);
		await shot('typed-unknown');
		await page.fill('#bt-sku', 'TEA');
		await page.fill('#bt-lot', 'TYPED');
		await page.click('#batch-form button[type=submit]');
		await page.waitForSelector('.bt-panel', { timeout: 10000 });
		const after = (await get('/api/v1/batches?limit=1000')).batches;
		check(after.length === n0 + 1 && after[after.length - 1].lot ===
		    'TYPED' && after[after.length - 1].sku === 'TEA',
		    'typed SKU: the batch is created');
		await page.unroute(/\/api\/v1\/products\?/);

		/* The tablet. */
		await page.setViewportSize({ width: 1024, height: 768 });
		await goto('#/batches', '#main table');
		const overflow = await page.evaluate(() =>
		    document.documentElement.scrollWidth > window.innerWidth + 1);
		check(!overflow, 'no sideways scrolling at 1024x768');
		const revokedRows = await page.$$eval('#main table tbody tr',
		    (trs) => trs.filter((tr) => /已作废/.test(tr.textContent))
		    .map((tr) => tr.cells[0].textContent + ' ' +
		    tr.cells[2].textContent));
		check(revokedRows.length === 1 && revokedRows[0] ===
		    `${b.id} L2026A`, 'the list shows the one revoked batch: ' +
		    JSON.stringify(revokedRows));
		await shot('tablet');
		await page.setViewportSize({ width: 1440, height: 900 });

		/* English. */
		await page.click('#lang');
		await goto('#/batches', '#batch-form');
		const en = await page.textContent('#main');
		check(/New batch/.test(en) && /Print files/.test(en) &&
		    !/批次|新建/.test(en), 'the page in English');
		await page.locator('.bt-files').first().click();
		await page.waitForSelector('.bt-panel');
		check(/Hidden-PIN print files/.test(await page.textContent(
		    '.bt-panel')), 'the PIN note in English');
		await shot('en');
		await page.click('#lang');

		/* Signed out elsewhere (another tab): the download asks HEAD
		 * first, so the page goes to the login form instead of saving
		 * the server's refusal as a file. */
		await goto('#/batches', '.bt-files');
		await page.locator('.bt-files').first().click();
		await page.waitForSelector('.bt-panel a.button[href]');
		await page.evaluate(async () => fetch('/admin/logout', {
		    method: 'POST', credentials: 'same-origin',
		    headers: { 'X-CSRF-Token': window.sigilAdmin.me().csrf,
		    'Content-Type': 'application/json' }, body: '{}' }));
		let saved = false;
		page.once('download', () => { saved = true; });
		await page.click('.bt-panel a.button[href]');
		await page.waitForSelector('#login-form', { timeout: 10000 });
		await page.waitForTimeout(500);
		check(!saved, 'signed out: no file saved, the login form shown');
		await shot('signed-out');

		/* The analyst. */
		if (!(await page.$('#login-form'))) {
			await page.click('#logout');
			await page.waitForSelector('#login-form');
		}
		await login(analyst);
		await goto('#/batches', '#main table');
		await page.waitForTimeout(300);
		const offered = [];
		for (const bad of ['#batch-form', '#main table button',
		    '#main a.button', '.bt-panel'])
			if (await page.$(bad))
				offered.push(bad);
		check(offered.length === 0, 'the analyst is offered no change ' +
		    'and no download: ' + JSON.stringify(offered));
		await shot('analyst');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('batches.js', main);
