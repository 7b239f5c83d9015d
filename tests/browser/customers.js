#!/usr/bin/env node
/*
 * customers.js - the dashboard's customers page past 1,000 customers
 * (issue 19 item 1), in headless Chromium (zh-CN, Asia/Shanghai): the
 * tier chart counts every customer, the list says how many of how many
 * it shows and pages on, and 导出 CSV downloads every one, in Chinese
 * with Beijing times; the segment, tier and role filters (select boxes,
 * and a click on a bar of a chart) list what the server filters, every
 * one; then the same page in English (English CSV, English filters),
 * and at 1024x768.
 *
 *   node tests/browser/customers.js BASE_URL EMAIL OUTDIR TOTAL LIVE SILVER
 *
 * The password comes from SIGIL_TEST_PASSWORD. Prints "ok"/"FAIL" lines
 * and, last, one line of JSON {"failures": n, "console_errors": [...],
 * "csv_rows": n, "silver_ids": [...], "silver_new_ids": [...], "shots":
 * [...]} (the driver compares the ids with the API's). Exit 0 when every
 * step passed.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { check, launch, tally } = require('./lib');


const num = (s) => Number(String(s).replace(/[^0-9]/g, ''));

async function main(argv) {
	if (argv.length !== 6) {
		process.stderr.write('usage: node customers.js BASE EMAIL OUTDIR ' +
		    'TOTAL LIVE SILVER\n');
		process.exit(2);
	}
	const [base, email, outdir, totalArg, liveArg, silverArg] = argv;
	const total = Number(totalArg), live = Number(liveArg);
	const silver = Number(silverArg);
	const facts = { console_errors: [], csv_rows: null, shots: [] };
	const browser = await launch();
	try {
		const context = await browser.newContext({ acceptDownloads: true,
		    viewport: { width: 1440, height: 900 }, locale: 'zh-CN',
		    timezoneId: 'Asia/Shanghai' });
		const page = await context.newPage();
		page.on('console', (m) => {
			if (m.type() === 'error' && !/status of 401/.test(m.text()))
				facts.console_errors.push(m.text());
		});
		page.on('pageerror', (e) => facts.console_errors.push(String(e)));
		await page.goto(base + '/admin/', { waitUntil: 'load' });
		await page.waitForSelector('#login-form');
		await page.fill('#login-email', email);
		await page.fill('#login-password', process.env.SIGIL_TEST_PASSWORD);
		await page.click('#login-form button[type=submit]');
		await page.waitForSelector('#kpi-scans', { timeout: 10000 });
		await page.evaluate(() => { location.hash = '#/customers'; });
		await page.waitForSelector('#customer-count', { timeout: 20000 });
		const count = await page.textContent('#customer-count');
		check(/1,000 \/ 2,000|1000 \/ 2000/.test(count.replace(/\s+/g, ' ')) ||
		    count.includes(`/ ${total.toLocaleString('zh-CN')}`),
		    `the list says it shows 1,000 of ${total}: "${count.trim()}"`);
		/* The chart values: the numbers drawn beside the bars. */
		const charts = await page.$$eval('#main .grid.two svg.chart',
		    (svgs) => svgs.map((s) => [...s.querySelectorAll('text')]
		    .filter((t) => !t.getAttribute('text-anchor'))
		    .map((t) => t.textContent)));
		const sums = charts.map((vals) => vals.reduce((a, v) => a + num(v),
		    0));
		check(sums.length === 2 && sums[0] === live && sums[1] === live,
		    `segment and tier charts count all ${live} live customers ` +
		    `(${sums.join(', ')})`);
		await page.waitForTimeout(150);
		let file = path.join(outdir, 'customers-2000.png');
		await page.screenshot({ path: file, fullPage: false });
		facts.shots.push(file);
		await page.click('#more-customers');
		await page.waitForFunction(() => /^2,?000 \//.test(document
		    .querySelector('#customer-count').textContent.trim()), null,
		    { timeout: 20000 });
		const rows = await page.$$eval('#main table tbody tr',
		    (l) => l.length);
		check(rows === 2000, `更多 loads the next page: ${rows} rows`);
		const [dl] = await Promise.all([page.waitForEvent('download'),
		    page.click('#export-csv')]);
		const saved = path.join(outdir, 'customers-export.csv');
		await dl.saveAs(saved);
		const lines = fs.readFileSync(saved, 'utf8').trim().split(/\r?\n/);
		facts.csv_rows = lines.length - 1;
		check(facts.csv_rows === total, `导出 CSV has all ${total} ` +
		    `customers (${facts.csv_rows})`);
		check(/^\ufeff?"编号","手机号","身份","等级","分群"/.test(lines[0]),
		    `导出 CSV: Chinese header (${lines[0].slice(0, 40)})`);
		check(lines.slice(1).every((l) => /"\d{4}-\d\d-\d\dT[0-9:.]+\+08:00"/.test(l)) &&
		    lines.slice(1).some((l) => l.includes('"新客"')),
		    '导出 CSV: Beijing times (+08:00) and Chinese segment words');
		file = path.join(outdir, 'customers-2000-all.png');
		await page.screenshot({ path: file, fullPage: false });
		facts.shots.push(file);

		/* ---- filters ---- */
		const opts = (id) => page.$$eval(`#${id} option`,
		    (l) => l.map((o) => [o.value, o.textContent]));
		await page.waitForFunction(() => document.querySelectorAll(
		    '#filter-tier option').length > 1, null, { timeout: 10000 });
		const segOpts = await opts('filter-segment');
		const tierOpts = await opts('filter-tier');
		check(segOpts.length === 7 && segOpts[0][1] === '全部分群' &&
		    segOpts.some(([v, l]) => v === 'at_risk' && l === '流失风险'),
		    `segment filter: all and six segments in Chinese (${segOpts.map((o) => o[1]).join(' ')})`);
		check(tierOpts.map((o) => o[0]).join('|') ===
		    '|铜 Bronze|银 Silver|金 Gold', `tier filter from the brand's ` +
		    `tiers (${tierOpts.map((o) => o[1]).join(' ')})`);
		const countIs = (re) => page.waitForFunction((src) => {
			const c = document.querySelector('#customer-count');
			return c && new RegExp(src).test(c.textContent.replace(/\s+/g, ' '));
		}, re.source, { timeout: 20000 });
		const tableIds = () => page.$$eval('#main table tbody tr a.customer-link',
		    (l) => l.map((a) => Number(a.textContent.replace('#', ''))));
		const tierCells = () => page.$$eval('#main table tbody tr',
		    (l) => l.map((r) => r.children[2].textContent));
		/* A click on the Silver bar of the tier chart. */
		await page.click('#tier-chart rect[data-key="银 Silver"]');
		await countIs(new RegExp(`^银 Silver ${silver} / ${silver}$`));
		facts.silver_ids = await tableIds();
		const cells = await tierCells();
		check(facts.silver_ids.length === silver &&
		    cells.every((c) => c === '银 Silver') &&
		    await page.inputValue('#filter-tier') === '银 Silver',
		    `a click on the Silver bar lists the ${silver} Silver customers ` +
		    `and sets the tier filter (${facts.silver_ids.length})`);
		file = path.join(outdir, 'customers-filter-silver.png');
		await page.screenshot({ path: file, fullPage: false });
		facts.shots.push(file);
		/* Segment "new" as well (both filters), from the select box. */
		await page.selectOption('#filter-segment', 'new');
		await countIs(/^新客 · 银 Silver \d/);
		facts.silver_new_ids = await tableIds();
		check(facts.silver_new_ids.length > 0 && await page.$$eval(
		    '#main table tbody tr', (l) => l.every((r) =>
		    r.children[3].textContent === '新客')),
		    `新客 and 银 Silver: ${facts.silver_new_ids.length} rows, each new`);
		/* A click on a segment bar with no one in it left: none. */
		await page.selectOption('#filter-role', 'retailer');
		await countIs(/^新客 · 银 Silver · 零售商 0$/);
		check(await page.$$eval('#main table tbody tr', (l) => l.length) <= 1,
		    'with 零售商 too: nobody (no retailers)');
		file = path.join(outdir, 'customers-filter-none.png');
		await page.screenshot({ path: file, fullPage: false });
		facts.shots.push(file);
		await page.selectOption('#filter-role', '');
		await page.selectOption('#filter-tier', '');
		/* A click on the "new" bar: every live one, paged. */
		await page.click('#segment-chart rect[data-key="new"]');
		await countIs(new RegExp(`^新客 1,?000 / ${live.toLocaleString('en-US')}`));
		check(true, 'the 新客 bar: 1,000 shown of every live customer');
		await page.setViewportSize({ width: 1024, height: 768 });
		const fits = await page.evaluate(() =>
		    document.documentElement.scrollWidth <= window.innerWidth + 1);
		check(fits, 'the filters fit at 1024x768');
		file = path.join(outdir, 'customers-filter-1024.png');
		await page.screenshot({ path: file, fullPage: false });
		facts.shots.push(file);
		await page.setViewportSize({ width: 1440, height: 900 });
		await page.selectOption('#filter-segment', '');

		/* ---- in English ---- */
		await page.click('#lang');
		await page.waitForFunction(() => {
			const o = document.querySelector('#filter-segment option');
			return o && o.textContent === 'All segments';
		}, null, { timeout: 20000 });
		await countIs(/^1,000 \/ 2,000/);
		const enOpts = await opts('filter-segment');
		check(enOpts.some(([v, l]) => v === 'champions' && l === 'Champions'),
		    'English: the segment filter in English');
		await page.click('#tier-chart rect[data-key="银 Silver"]');
		await countIs(new RegExp(`^银 Silver ${silver} / ${silver}$`));
		check((await tableIds()).join() === facts.silver_ids.join(),
		    'English: the Silver bar lists the same customers');
		const [dl2] = await Promise.all([page.waitForEvent('download'),
		    page.click('#export-csv')]);
		const saved2 = path.join(outdir, 'customers-export-en.csv');
		await dl2.saveAs(saved2);
		const en = fs.readFileSync(saved2, 'utf8').trim().split(/\r?\n/);
		check(en.length - 1 === total &&
		    /^\ufeff?"id","phone","role","tier","segment"/.test(en[0]) &&
		    en.slice(1).some((l) => l.includes('"new"')) &&
		    en.slice(1).every((l) => /\+08:00"/.test(l)),
		    `Export CSV in English: ${en.length - 1} rows, English header ` +
		    'and codes, local times');
		file = path.join(outdir, 'customers-filter-en.png');
		await page.screenshot({ path: file, fullPage: false });
		facts.shots.push(file);
	} finally {
		await browser.close();
	}
	process.stdout.write(JSON.stringify(Object.assign({ failures: tally.failures },
	    facts)) + '\n');
	process.exit(tally.failures ? 1 : 0);
}

main(process.argv.slice(2)).catch((e) => {
	process.stdout.write('FAIL ' + (e && e.stack || e) + '\n');
	process.stdout.write(JSON.stringify({ failures: tally.failures + 1 }) + '\n');
	process.exit(1);
});
