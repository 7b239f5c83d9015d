#!/usr/bin/env node
/*
 * audit.js - the dashboard's audit trail page (issue 19 item 5) in
 * Debian's headless Chromium, in Shanghai time and zh-CN (and once in
 * English), as a brand admin reads it:
 *
 *   newest first, 50 a page and "更早的记录" for the rest, every entry of
 *   the trail reachable; who (a dashboard user by email, an API token, the
 *   command line), the role, what in Chinese with the raw action beside
 *   it, the target linked to its page, the before/after change, the time
 *   in Shanghai time, where from;
 *   filters: who (kind and id), what, from/to dates (China days), clear;
 *   a bad filter answered in Chinese, never the server's English;
 *   导出 CSV downloads what the filters select;
 *   in English once; at 1024×768 (the tablet);
 *   an analyst gets a note instead of the trail.
 *
 *   node tests/browser/audit.js BASE_URL ADMIN_EMAIL ANALYST_EMAIL OUTDIR
 *
 * The password is SIGIL_TEST_PASSWORD. Prints one line per check
 * ("ok ..."/"FAIL ..."), then one line of JSON {"failures", "dialogs",
 * "console_errors", "shots", "csv"}.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { TZ, check, dashboard, finish, launch, run, shanghaiDate, shooter,
    watch, zhPage } = require('./lib');

async function main(argv) {
	if (argv.length !== 4) {
		process.stderr.write('usage: node audit.js BASE ADMIN ANALYST ' +
		    'OUTDIR\n');
		process.exit(2);
	}
	const [base, admin, analyst, outdir] = argv;
	const facts = { dialogs: [], console_errors: [], shots: [], csv: {} };
	const browser = await launch();
	try {
		const page = await zhPage(browser);
		/*
		 * ECharts is fetched by `make vendor` (from a registry: not in
		 * a tree built offline). When it is absent, the frame's 404
		 * for it is said once and not counted; when present, any error
		 * about it counts as every other. The 400 of the bad filter is
		 * expected and shown.
		 */
		const vendor = await fetch(base + '/admin/vendor/echarts.js');
		facts.vendor = vendor.status;
		watch(page, facts, { allow: [400, 401], vendor: vendor.status });
		const shot = shooter(page, facts, outdir, 'audit-');
		const { get, login } = dashboard(page, base);
		const rowCount = () => page.$$eval('#audit-body table tbody tr',
		    (trs) => trs.length);
		const settled = async () => {
			await page.waitForSelector('#audit-body table, ' +
			    '#audit-body p.empty:not(:empty), #audit-error',
			    { timeout: 10000 });
			await page.waitForFunction(() => !document.querySelector(
			    '#audit-body p.empty') || !/加载|Loading/.test(
			    document.querySelector('#audit-body p.empty').textContent));
		};
		/* The whole trail, as the API gives it to this session. */
		const all = async (q) => {
			let out = [], before = null;
			for (;;) {
				const r = await get('/api/v1/audit?limit=1000' + (q || '') +
				    (before ? '&before=' + before : ''));
				out = out.concat(r.entries);
				if (r.next === null)
					return out;
				before = r.next;
			}
		};

		await login(admin);
		await page.click('#nav a[data-group=settings]');
		const nav = await page.waitForSelector('#subnav a[data-page=audit]');
		check(nav !== null && (await nav.textContent()) === '操作记录',
		    'the nav\'s 设置 group has 操作记录');
		await nav.click();
		await settled();
		const trail = await all('');
		check(trail.length > 50, `the trail has more than a page ` +
		    `(${trail.length})`);
		check(await rowCount() === 50, 'the first 50 entries are shown');
		const first = await page.textContent('#audit-body table tbody tr');
		const newest = trail[0];
		check(first.includes('#' + newest.seq), 'newest first (#' +
		    newest.seq + ')');
		/* when() in Shanghai: the same instant as the API's. */
		const shown = await page.$eval('#audit-body table tbody tr td',
		    (td) => td.firstChild.textContent);
		const expect = shanghaiDate(new Date(newest.at)) + ' ' +
		    new Intl.DateTimeFormat('en-GB', { timeZone: TZ,
		    hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
		    .format(new Date(newest.at));
		check(shown === expect, `its time in Shanghai time (${shown} = ` +
		    `${expect})`);
		await shot('zh-first-page');

		/* More: every entry reachable. */
		while (await page.$('#audit-more')) {
			const n = await rowCount();
			await page.click('#audit-more');
			await page.waitForFunction((k) => document.querySelectorAll(
			    '#audit-body table tbody tr').length > k, n);
		}
		check(await rowCount() === trail.length, `更早的记录 reaches ` +
		    `every entry (${await rowCount()} of ${trail.length})`);
		const text = await page.textContent('#audit-body');
		check(/暂停营销活动/.test(text) && /campaign_pause/.test(text),
		    'what, in Chinese with the raw action: 暂停营销活动 campaign_pause');
		check(/ann@acme\.test/.test(text) && /user:\d+/.test(text),
		    'a dashboard user is named by email, with user:N');
		check(/API 令牌 #\d+/.test(text) && /命令行 /.test(text) &&
		    /服务器命令行/.test(text),
		    'tokens and the command line named; the CLI\'s "from" says so');
		check(/paused: 否 → 是/.test(text), 'the pause\'s change: ' +
		    'paused: 否 → 是');
		check(/state: inactive → active/.test(text),
		    'a batch\'s state before and after');
		check(/127\.0\.0\.1|10\.\d+\.\d+\.\d+/.test(text),
		    'where from: the client address');
		check(!/sgt_|13800138000|correct horse/.test(text),
		    'no token secret, phone or password on the page');
		const link = await page.$('#audit-body a.target-link[href="#/campaigns"]');
		check(link !== null && /营销活动 #\d+/.test(await link.textContent()),
		    'a campaign target links to the campaigns page');
		await shot('zh-all');

		/* Filters: who. */
		await page.selectOption('#audit-kind', 'user');
		await settled();
		let rows = await page.$$eval('#audit-body table tbody tr',
		    (trs) => trs.map((tr) => tr.textContent));
		const users = await all('&actor=user');
		check(rows.length === users.length && rows.length > 0 &&
		    rows.every((r) => /user:\d+/.test(r)),
		    `who = 控制台账户: only users' entries (${rows.length})`);
		await shot('zh-filter-user');
		/* One user, picked by email. */
		const annId = await page.$eval('#audit-user', (sel) =>
		    [...sel.options].find((o) => o.textContent ===
		    'ann@acme.test').value);
		const anns = await all('&actor=user:' + annId);
		await page.selectOption('#audit-user', annId);
		await page.waitForFunction(([id, n]) => {
			const trs = [...document.querySelectorAll(
			    '#audit-body table tbody tr')];
			return trs.length === n && trs.every((tr) =>
			    tr.textContent.includes('user:' + id));
		}, [annId, anns.length], { timeout: 10000 }).catch(() => null);
		rows = await page.$$eval('#audit-body table tbody tr',
		    (trs) => trs.map((tr) => tr.textContent));
		check(rows.length === anns.length && rows.length > 0 &&
		    rows.every((r) => r.includes('ann@acme.test')),
		    `who = ann@acme.test (picked by email): her ${anns.length}: ` +
		    JSON.stringify(rows).slice(0, 300));
		const tok1 = await all('&actor=token:1');
		await page.selectOption('#audit-kind', 'token');
		await page.fill('#audit-actor-id', '1');
		await page.$eval('#audit-actor-id', (e) => e.dispatchEvent(
		    new Event('change')));
		await page.waitForFunction((n) => {
			const trs = [...document.querySelectorAll(
			    '#audit-body table tbody tr')];
			return trs.length === n && trs.every((tr) =>
			    tr.textContent.includes('token:1'));
		}, Math.min(50, tok1.length), { timeout: 10000 })
		    .catch(() => null);
		rows = await page.$$eval('#audit-body table tbody tr',
		    (trs) => trs.map((tr) => tr.textContent));
		check(rows.length === Math.min(50, tok1.length) &&
		    rows.every((r) => r.includes('token:1')),
		    `who = API 令牌 #1: its ${tok1.length} entries`);

		/* What. */
		await page.click('#audit-reset');
		await settled();
		await page.selectOption('#audit-action', 'batch_activate');
		await settled();
		await page.waitForFunction(() => document.querySelectorAll(
		    '#audit-body table tbody tr').length > 0 && [...document
		    .querySelectorAll('#audit-body table tbody tr')].every((tr) =>
		    tr.textContent.includes('batch_activate')));
		rows = await page.$$eval('#audit-body table tbody tr',
		    (trs) => trs.map((tr) => tr.textContent));
		const acts = await all('&action=batch_activate');
		check(rows.length === acts.length && rows.length > 0,
		    `what = 激活批次: ${rows.length} entries`);

		/* The export: what the filters select. */
		const [dl] = await Promise.all([page.waitForEvent('download'),
		    page.click('#audit-export')]);
		const saved = path.join(outdir, 'audit-export.csv');
		await dl.saveAs(saved);
		const lines = fs.readFileSync(saved, 'utf8').trim().split(/\r?\n/);
		facts.csv = { rows: lines.length - 1, file: saved };
		check(lines[0].startsWith('"seq","time","actor_kind"') &&
		    lines.length - 1 === acts.length &&
		    lines.slice(1).every((l) => l.includes('"batch_activate"')),
		    `导出 CSV: the ${acts.length} filtered entries ` +
		    `(${lines.length - 1})`);
		await shot('zh-filter-action');

		/* Dates: today in China has them all; tomorrow nothing. */
		await page.click('#audit-reset');
		await settled();
		const today = shanghaiDate(new Date());
		const tomorrow = shanghaiDate(new Date(Date.now() + 86400000));
		await page.fill('#audit-from', tomorrow);
		await page.$eval('#audit-from', (e) => e.dispatchEvent(
		    new Event('change')));
		await page.waitForFunction(() => !document.querySelector(
		    '#audit-body table') && /没有符合条件的记录/.test(
		    document.querySelector('#audit-body').textContent),
		    null, { timeout: 10000 }).catch(() => null);
		check(/没有符合条件的记录/.test(await page.textContent('#audit-body')) &&
		    await page.$('#audit-body table') === null,
		    'from tomorrow: 没有符合条件的记录');
		await shot('zh-empty');
		await page.fill('#audit-from', today);
		await page.fill('#audit-to', today);
		await page.$eval('#audit-to', (e) => e.dispatchEvent(
		    new Event('change')));
		await page.waitForSelector('#audit-body table');
		check(await rowCount() === 50, 'from and to today (China): a full ' +
		    'first page');

		/* A filter the server refuses: said in Chinese. */
		await page.click('#audit-reset');
		await settled();
		await page.selectOption('#audit-kind', 'cli');
		await settled();
		await page.fill('#audit-actor-id', 'x'.repeat(70));
		await page.$eval('#audit-actor-id', (e) => e.dispatchEvent(
		    new Event('change')));
		await page.waitForSelector('#audit-error');
		const err = await page.textContent('#audit-error');
		check(/筛选条件无效/.test(err) && !/[a-z]{4,} must/.test(err),
		    'a refused filter is said in Chinese, not the server\'s ' +
		    'English: ' + err);
		await shot('zh-bad-filter');
		await page.click('#audit-reset');
		await settled();

		/* The tablet. */
		await page.setViewportSize({ width: 1024, height: 768 });
		await page.waitForTimeout(200);
		const wide = await page.evaluate(() =>
		    document.documentElement.scrollWidth);
		check(wide <= 1024 + 1, `at 1024 px the page does not scroll ` +
		    `sideways (${wide})`);
		await shot('zh-tablet');
		await page.setViewportSize({ width: 1440, height: 900 });

		/* English, once. */
		await page.click('#lang');
		await settled();
		const en = await page.textContent('#main');
		check(/Audit trail/.test(en) && /Paused a campaign|Created a campaign|Activated a batch/.test(en) &&
		    /Export CSV/.test(en) && !/操作记录/.test(en),
		    'in English: the title, what in words, the export');
		await shot('en');
		await page.click('#lang');

		/* An analyst: a note, no trail and no error. */
		await page.click('#logout');
		await page.waitForSelector('#login-form');
		await login(analyst);
		await page.evaluate(() => { location.hash = '#/audit'; });
		await page.waitForSelector('#audit-admin-only');
		check(await page.$('#audit-body') === null &&
		    /只有管理员/.test(await page.textContent('#main')),
		    'an analyst sees 只有管理员 and no trail');
		await shot('zh-analyst');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('audit.js', main);
