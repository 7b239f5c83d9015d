#!/usr/bin/env node
/*
 * retention.js - the dashboard's data retention page (issue 20 item 7)
 * in Debian's headless Chromium, in zh-CN and Shanghai time (and once in
 * English), as a brand admin uses it:
 *
 *   the default says the scans are kept for ever, the run button is off;
 *   a period out of bounds is refused in Chinese and nothing is saved;
 *   7 days saved; "立即执行" starts the job and the page follows it until
 *   it has finished, with the scans it reduced;
 *   in English once;
 *   an analyst sees the setting and a note, no form.
 *
 *   node tests/browser/retention.js BASE_URL ADMIN_EMAIL ANALYST_EMAIL \
 *       OUTDIR REDUCED
 *
 * REDUCED is how many scans the run must report. The password is
 * SIGIL_TEST_PASSWORD. Prints one line per check, then one line of JSON
 * {"failures", "dialogs", "console_errors", "shots"}.
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch,
    zhPage } = require('./lib');

async function main(argv) {
	if (argv.length !== 5) {
		process.stderr.write('usage: node retention.js BASE ADMIN ' +
		    'ANALYST OUTDIR REDUCED\n');
		process.exit(2);
	}
	const [base, admin, analyst, outdir, reducedArg] = argv;
	const reduced = Number(reducedArg);
	const facts = { dialogs: [], console_errors: [], shots: [] };
	const browser = await launch();
	try {
		const page = await zhPage(browser);
		const vendor = await fetch(base + '/admin/vendor/echarts.js');
		watch(page, facts, { allow: [401], vendor: vendor.status });
		const shot = shooter(page, facts, outdir, 'retention-');
		const { get, goto, login, english, chinese } =
		    dashboard(page, base);
		const text = (sel) => page.textContent(sel);

		await login(admin);
		await goto('#/retention', '#ret-status');
		check((await text('#ret-status')).includes('永久保留'),
		    'the default: kept for ever (永久保留)');
		check(await page.isDisabled('#ret-run'),
		    'nothing to run without a period: the button is off');
		check((await text('#ret-last')).includes('尚未执行'),
		    'no run since the server started');
		await shot('default');

		await page.fill('#ret-days', '3651');
		await page.click('#ret-save');
		await page.waitForSelector('#ret-msg:not([hidden])');
		check((await text('#ret-msg')).includes('0 到 3650'),
		    'out of bounds: refused in Chinese');
		check((await get('/api/v1/privacy/retention')).days === 0,
		    'nothing was saved');
		await shot('refused');

		await page.fill('#ret-days', '7');
		await page.click('#ret-save');
		await page.waitForFunction(() => document.querySelector(
		    '#ret-status') && document.querySelector('#ret-status')
		    .textContent.includes('7 天'), null, { timeout: 10000 });
		check((await get('/api/v1/privacy/retention')).days === 7,
		    'saved: 7 days');
		check(!(await page.isDisabled('#ret-run')),
		    'with a period the job can run');

		await page.click('#ret-run');
		await page.waitForFunction(() => {
			const e = document.querySelector('#ret-last');
			return e && e.textContent.includes('执行完毕');
		}, null, { timeout: 30000 });
		const last = await text('#ret-last');
		check(last.includes(`已处理 ${reduced.toLocaleString('zh-CN')} ` +
		    '条扫码'),
		    `the page followed the run to its end: ${reduced} scans ` +
		    `reduced (${last})`);
		check(last.includes('磁盘已抹除'), 'and the disk was wiped');
		const doc = await get('/api/v1/privacy/retention');
		check(doc.last_run && doc.last_run.reduced === reduced &&
		    doc.reduced_through, 'the API says the same');
		check(!(await text('#ret-status')).includes('尚未处理任何扫码'),
		    'reduced up to: a time');
		await shot('done');

		await english('Data retention', '#ret-last');
		check((await text('#ret-status')).includes('7 days') &&
		    (await text('#ret-last')).includes('scans reduced'),
		    'in English: the period and the last run');
		await shot('english');
		await chinese('#ret-status');

		const page2 = await zhPage(browser);
		watch(page2, facts, { allow: [401], vendor: vendor.status });
		const d2 = dashboard(page2, base);
		await d2.login(analyst);
		await d2.goto('#/retention', '#ret-status');
		check(await page2.isVisible('#ret-admin-only') &&
		    !(await page2.$('#ret-form')),
		    'an analyst: the setting and a note, no form');
		check((await page2.textContent('#ret-status')).includes('7 天'),
		    'an analyst sees the period');
		await shooter(page2, facts, outdir, 'retention-')('analyst');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('retention.js', main);
