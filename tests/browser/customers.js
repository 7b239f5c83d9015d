#!/usr/bin/env node
/*
 * customers.js - the dashboard's customers page past 1,000 customers
 * (issue 19 item 1), in headless Chromium (zh-CN, Asia/Shanghai): the
 * tier chart counts every customer, the list says how many of how many
 * it shows and pages on, and 导出 CSV downloads every one.
 *
 *   node tests/browser/customers.js BASE_URL EMAIL OUTDIR TOTAL LIVE
 *
 * The password comes from SIGIL_TEST_PASSWORD. Prints "ok"/"FAIL" lines
 * and, last, one line of JSON {"failures": n, "console_errors": [...],
 * "csv_rows": n, "shots": [...]}. Exit 0 when every step passed.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { check, launch, tally } = require('./lib');


const num = (s) => Number(String(s).replace(/[^0-9]/g, ''));

async function main(argv) {
	if (argv.length !== 5) {
		process.stderr.write('usage: node customers.js BASE EMAIL OUTDIR ' +
		    'TOTAL LIVE\n');
		process.exit(2);
	}
	const [base, email, outdir, totalArg, liveArg] = argv;
	const total = Number(totalArg), live = Number(liveArg);
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
		file = path.join(outdir, 'customers-2000-all.png');
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
