#!/usr/bin/env node
/*
 * people.js - the dashboard's pages about people (issue 19 item 5) in
 * Debian's headless Chromium, in Shanghai time and zh-CN (and once in
 * English), as a brand team uses them, every task through the page:
 *
 *   customer detail: opened from a row of the customers list; profile,
 *   tier progress, and scans, claims, redemptions and ledger each paged
 *   with "加载更多" to their end; the export downloaded; the erasure
 *   confirmed in the page; an unknown id said in Chinese;
 *   orders: the open ones paged to their end, one marked fulfilled after
 *   a confirmation in the page (a cancelled one stays open), the filter;
 *   feedback: paged to its end, the rating, product and date filters,
 *   links to the code's lookup and to the customer;
 *   exports: the scan file (Chinese header, a date range, a verdict, a
 *   product, NDJSON) and the customer file downloaded and read;
 *   an analyst is offered no change and no file it may not have;
 *   every page at 1440x900 and 1024x768 without sideways scrolling.
 *
 *   node tests/browser/people.js BASE ADMIN OPERATOR ANALYST OUTDIR FACTS
 *
 * FACTS is a JSON file of what the server holds (ids, counts) for the
 * checks. The password is SIGIL_TEST_PASSWORD. Prints one line per
 * check, then one line of JSON {"failures", "dialogs", "console_errors",
 * "shots", "done"} ("done": what the page changed, for the driver to
 * check on the server).
 */
'use strict';

const fs = require('fs');
const { check, dashboard, finish, launch, run, shanghai, shanghaiDate,
    shooter, watch, zhPage } = require('./lib');

async function main(argv) {
	if (argv.length !== 6) {
		process.stderr.write('usage: node people.js BASE ADMIN OPERATOR ' +
		    'ANALYST OUTDIR FACTS\n');
		process.exit(2);
	}
	const [base, admin, operator, analyst, outdir, factsFile] = argv;
	const F = JSON.parse(fs.readFileSync(factsFile, 'utf8'));
	const facts = { dialogs: [], console_errors: [], shots: [], done: {} };
	const browser = await launch();
	try {
		const page = await zhPage(browser);
		/*
		 * ECharts is fetched by `make vendor` (not in a tree built
		 * offline): when it is absent, what the frame says about it is
		 * not counted; when present, it counts as every other error.
		 * 4xx answers the page expects and shows are not counted.
		 */
		const vendor = await fetch(base + '/admin/vendor/echarts.js');
		watch(page, facts, { allow: [401, 403, 404], vendor: vendor.status });
		const shot = shooter(page, facts, outdir, (name, n) =>
		    `people-${String(n).padStart(2, '0')}-${name}`);
		const { get, goto, login } = dashboard(page, base, '#nav a');
		const logout = async () => {
			await page.click('#logout');
			await page.waitForSelector('#login-form');
		};
		/* Clicks "more" in box until it is gone; the rows then. */
		const allRows = async (box, more) => {
			for (let i = 0; i < 200; i++) {
				const b = await page.$(more);
				if (!b)
					break;
				const n = await page.$$eval(box + ' tbody tr', (r) => r.length);
				await b.click();
				await page.waitForFunction(([sel, k, m]) =>
				    document.querySelectorAll(sel + ' tbody tr').length > k ||
				    !document.querySelector(m), [box, n, more],
				    { timeout: 10000 });
			}
			return page.$$eval(box + ' tbody tr', (trs) =>
			    trs.map((tr) => tr.textContent));
		};
		const download = async (selector) => {
			const [d] = await Promise.all([page.waitForEvent('download'),
			    page.click(selector)]);
			return { name: d.suggestedFilename(),
			    text: fs.readFileSync(await d.path(), 'utf8') };
		};
		const noSideways = async (what) => {
			const w = await page.evaluate(() => [
			    document.documentElement.scrollWidth, window.innerWidth]);
			check(w[0] <= w[1], `${what}: no sideways scrolling (${w})`);
		};
		const noEnglish = async (what) => {
			const text = await page.textContent('#main');
			check(!/customer not found|no such|not found|storage error|invalid|bad_query/i
			    .test(text), `${what}: no English server message`);
		};

		await login(admin);
		await goto('#/customers', '#main table tbody tr');
		const subnav = () => page.$$eval('#subnav a', (as) =>
		    as.map((a) => a.getAttribute('data-page')));
		let pages = await subnav();
		check(pages.includes('feedback') && pages.includes('exports') &&
		    !pages.includes('customer'),
		    'the customers group: feedback and exports, no customer entry ' +
		    JSON.stringify(pages));
		await goto('#/orders', '#orders-list');
		pages = await subnav();
		check(pages.includes('orders') && pages.includes('campaigns'),
		    'orders in the marketing group ' + JSON.stringify(pages));

		/* ---- customers list → customer detail ---- */
		await goto('#/customers', '#main table tbody tr');
		await page.click(`#main a.customer-link[href="#/customer?id=${F.rich}"]`);
		await page.waitForSelector('#customer-profile');
		check(page.url().endsWith(`#/customer?id=${F.rich}`),
		    'a row of the list opens #/customer?id=N');
		const prof = await page.textContent('#customer-profile');
		check(prof.includes(F.rich_phone) && prof.includes('消费者') &&
		    prof.includes(shanghai(F.rich_created)),
		    'profile: masked phone, role, join time in Shanghai time');
		check(prof.includes('已是最高等级') && !await page.$('#tier-next'),
		    'the top tier says so');
		check((await page.textContent('#customer-balance')).replace(/,/g, '') ===
		    String(F.rich_balance), `balance ${F.rich_balance}`);
		await shot('customer');
		for (const s of ['scans', 'claims', 'orders', 'ledger']) {
			const rows = await allRows('#section-' + s, '#more-' + s + '-more');
			check(rows.length === F.rich_counts[s],
			    `customer ${s}: every one through "加载更多" (${rows.length}/` +
			    `${F.rich_counts[s]})`);
		}
		const firstScan = await page.textContent('#section-scans tbody tr');
		check(firstScan.includes(shanghai(F.rich_last_scan)),
		    'the newest scan first, in Shanghai time');
		await shot('customer-all');
		await noSideways('customer 1440');
		const ex = await download('#customer-export');
		const exDoc = JSON.parse(ex.text);
		check(ex.name === `customer-${F.rich}.json` &&
		    exDoc.customer.phone === '+86' + F.rich_phone_full,
		    'the PIPL export downloaded from the page');

		/* Erase: cancelled first, then confirmed in the page. */
		await goto(`#/customer?id=${F.victim}`, '#customer-erase');
		check(/距 银 Silver 还差 400 积分/.test(await page.textContent(
		    '#tier-next')), 'tier progress: ' + await page.textContent('#tier-next'));
		await page.click('#customer-erase');
		await page.waitForSelector('#modal:not([hidden])');
		await shot('customer-erase-confirm');
		await page.click('#modal-cancel');
		let v = await get(`/api/v1/customers/${F.victim}`);
		check(!v.customer.erased, 'cancelled: nothing erased');
		await page.click('#customer-erase');
		await page.click('#modal-ok');
		await page.waitForFunction(() => document.querySelector(
		    '#customer-card .notice') !== null, null, { timeout: 10000 });
		v = await get(`/api/v1/customers/${F.victim}`);
		check(!!v.customer.erased && !await page.$('#customer-erase'),
		    'erased from the page; no erase button after');
		facts.done.erased = F.victim;
		await shot('customer-erased');
		await goto('#/customer?id=99999999', '#customer-card .notice');
		check((await page.textContent('#customer-card')).includes('没有找到'),
		    'an unknown customer: said in Chinese');
		await noEnglish('customer 404');

		/* ---- orders ---- */
		await goto('#/orders', '#orders-list table tbody tr');
		const open = await allRows('#orders-list', '#more-orders-more');
		check(open.length === F.open_orders,
		    `orders: every open one through "加载更多" (${open.length}/` +
		    `${F.open_orders})`);
		check(open.some((r) => /自提码\s*\d{8}/.test(r)) &&
		    open.some((r) => r.includes('上海市')),
		    'pick-up codes and delivery addresses shown');
		await shot('orders');
		const fulfil = '#fulfil-' + F.order_to_fulfil;
		check(await page.textContent(fulfil) === '标记已发出',
		    'an open order offers "标记已发出"');
		await page.click(fulfil);
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-cancel');
		let od = await get('/api/v1/orders?status=fulfilled');
		check(od.orders.length === 0, 'cancelled: still open');
		await page.click(fulfil);
		await shot('orders-confirm');
		await page.click('#modal-ok');
		await page.waitForSelector(fulfil, { state: 'detached',
		    timeout: 10000 });
		od = await get('/api/v1/orders?status=fulfilled');
		check(od.orders.length === 1 && od.orders[0].id === F.order_to_fulfil,
		    'marked fulfilled through the page, on the server');
		facts.done.fulfilled = F.order_to_fulfil;
		await page.selectOption('#order-status', 'fulfilled');
		await page.waitForFunction(() => document.querySelectorAll(
		    '#orders-list tbody tr').length === 1, null, { timeout: 10000 });
		await page.selectOption('#order-status', 'all');
		await page.waitForFunction(() => document.querySelectorAll(
		    '#orders-list tbody tr').length > 1, null, { timeout: 10000 });
		const everyOrder = await allRows('#orders-list', '#more-orders-more');
		check(everyOrder.length === F.all_orders,
		    `all orders: ${everyOrder.length}/${F.all_orders}`);

		/* ---- feedback ---- */
		await goto('#/feedback', '#feedback-list table tbody tr');
		const fb = await allRows('#feedback-list', '#more-feedback-more');
		check(fb.length === F.feedback, `feedback: every entry through ` +
		    `"加载更多" (${fb.length}/${F.feedback})`);
		check(fb.some((r) => r.includes('会员已删除')) &&
		    fb.some((r) => r.includes('未登录用户')) &&
		    fb.some((r) => r.includes('★★★★★')),
		    'erased text said, anonymous said, ratings as stars');
		await shot('feedback');
		await page.selectOption('#feedback-filters select[name=rating]', '5');
		await page.waitForFunction(() => document.querySelectorAll(
		    '#feedback-filters select[name=sku] option').length > 1);
		await page.selectOption('#feedback-filters select[name=sku]', 'W2');
		await page.click('#feedback-filters button[type=submit]');
		await page.waitForSelector('#feedback-list table tbody tr');
		const five = await allRows('#feedback-list', '#more-feedback-more');
		check(five.length === F.feedback_5_w2 &&
		    five.every((r) => r.includes('★★★★★') && r.includes('W2')),
		    `rating 5 and product W2: ${five.length}/${F.feedback_5_w2}`);
		await shot('feedback-filtered');
		await page.fill('#feedback-filters input[name=since]', shanghaiDate(1));
		await page.click('#feedback-filters button[type=submit]');
		/* (p.empty is the loading line too: wait for the answer.) */
		await page.waitForFunction(() => !document.querySelector(
		    '#feedback-list table') && !/加载中/.test(document.querySelector(
		    '#feedback-list').textContent), null, { timeout: 10000 });
		check((await page.textContent('#feedback-list')).includes('没有符合条件的反馈'),
		    'since tomorrow (Shanghai): none, said so');
		await page.fill('#feedback-filters input[name=since]', shanghaiDate(0));
		await page.fill('#feedback-filters input[name=until]', shanghaiDate(-1));
		await page.click('#feedback-filters button[type=submit]');
		check((await page.textContent('.field-error')).includes('开始日期不能晚于结束日期'),
		    'a reversed range refused in the page');
		/* Yesterday to today: the data may predate a Shanghai midnight. */
		await page.fill('#feedback-filters input[name=since]', shanghaiDate(-1));
		await page.fill('#feedback-filters input[name=until]', shanghaiDate(0));
		await page.selectOption('#feedback-filters select[name=rating]', '');
		await page.selectOption('#feedback-filters select[name=sku]', '');
		await page.click('#feedback-filters button[type=submit]');
		await page.waitForSelector('#feedback-list table tbody tr');
		const today = await allRows('#feedback-list', '#more-feedback-more');
		check(today.length === F.feedback,
		    'yesterday to today (Shanghai): every entry');
		await page.click('#feedback-list a.lookup-link');
		await page.waitForFunction(() => location.hash.startsWith('#/lookup?code='));
		await page.waitForSelector('#main .timeline, #main dl', { timeout: 10000 });
		check(true, 'the code link opens its lookup');
		await shot('feedback-lookup');
		await goto('#/feedback', '#feedback-list a.customer-link');
		const cl = await page.getAttribute('#feedback-list a.customer-link', 'href');
		await page.click('#feedback-list a.customer-link');
		await page.waitForSelector('#customer-profile');
		check(page.url().endsWith(cl), 'the customer link opens the customer');

		/* ---- exports ---- */
		await goto('#/exports', '#export-scans');
		check(await page.inputValue('#scan-export-form input[name=to]') ===
		    shanghaiDate(0), 'the range ends today in Shanghai');
		await shot('exports');
		let d = await download('#export-scans');
		let lines = d.text.split('\n').filter((x) => x);
		check(d.name === 'scans.csv' && lines[0].startsWith('\ufeff扫码编号,品牌') &&
		    lines.length - 1 === F.scans,
		    `scan CSV, Chinese header, all ${F.scans} scans (${lines.length - 1})`);
		check(lines.slice(1).every((x) => x.includes('+08:00') &&
		    /,(genuine|suspicious|counterfeit|revoked|inactive|unverified),/.test(x)),
		    'times +08:00, verdicts as codes');
		await page.fill('#scan-export-form input[name=from]', shanghaiDate(1));
		await page.fill('#scan-export-form input[name=to]', shanghaiDate(2));
		d = await download('#export-scans');
		check(d.text.split('\n').filter((x) => x).length === 1,
		    'tomorrow on: the header only');
		await page.fill('#scan-export-form input[name=from]', shanghaiDate(-1));
		await page.fill('#scan-export-form input[name=to]', shanghaiDate(0));
		await page.selectOption('#scan-export-form select[name=verdict]', 'genuine');
		await page.waitForFunction(() => document.querySelectorAll(
		    '#scan-export-form select[name=sku] option').length > 1);
		await page.selectOption('#scan-export-form select[name=sku]', 'W1');
		await page.selectOption('#scan-export-form select[name=format]', 'ndjson');
		d = await download('#export-scans');
		const objs = d.text.split('\n').filter((x) => x).map((x) => JSON.parse(x));
		check(d.name === 'scans.ndjson' && objs.length === F.scans_w1_genuine &&
		    objs.every((o) => o.verdict === 'genuine' && o.batch === F.w1_batch),
		    `NDJSON, genuine W1 scans since yesterday: ${objs.length}/${F.scans_w1_genuine}`);
		await page.fill('#scan-export-form input[name=to]', shanghaiDate(-3));
		check(await page.isHidden('#export-scans') &&
		    (await page.textContent('#scan-export .field-error')).includes('开始日期'),
		    'a reversed range: no link, said in Chinese');
		d = await download('#export-customers');
		lines = d.text.split('\n').filter((x) => x);
		check(lines[0].startsWith('\ufeff"编号","手机号"') &&
		    lines.length - 1 === F.customers && d.text.includes('+08:00') &&
		    d.text.includes('"新客"'),
		    `customer CSV: Chinese, local times, every one (${lines.length - 1}/` +
		    `${F.customers})`);
		facts.done.exports = true;
		await noSideways('exports 1440');

		/* ---- 1024x768, the tablet ---- */
		await page.setViewportSize({ width: 1024, height: 768 });
		for (const [hash, sel, name] of [
		    [`#/customer?id=${F.rich}`, '#customer-profile', 'customer'],
		    ['#/orders', '#orders-list table', 'orders'],
		    ['#/feedback', '#feedback-list table', 'feedback'],
		    ['#/exports', '#export-scans', 'exports']]) {
			await goto(hash, sel);
			await noSideways(name + ' 1024');
			await shot(name + '-1024');
		}
		await page.setViewportSize({ width: 1440, height: 900 });

		/* ---- English, once ---- */
		await page.click('#lang');
		for (const [hash, sel, word, name] of [
		    [`#/customer?id=${F.rich}`, '#customer-profile', 'Redemptions', 'customer'],
		    ['#/orders', '#orders-list table', 'Mark fulfilled', 'orders'],
		    ['#/feedback', '#feedback-list table', 'Not logged in', 'feedback'],
		    ['#/exports', '#export-scans', 'One line per scan', 'exports']]) {
			await goto(hash, sel);
			check((await page.textContent('#main')).includes(word),
			    `in English: ${name} (${word})`);
			await shot(name + '-en');
		}
		await goto('#/customer?id=99999999', '#customer-card .notice');
		check((await page.textContent('#customer-card')).includes('Not found'),
		    'in English: an unknown customer');
		await page.click('#lang');

		/* ---- operator: orders and exports yes, erase no ---- */
		await logout();
		await login(operator);
		await goto('#/orders', '#orders-list table');
		check(await page.$('#orders-list button.fulfil') !== null,
		    'an operator may fulfil');
		await goto(`#/customer?id=${F.rich}`, '#customer-profile');
		check(!await page.$('#customer-erase') && !await page.$('#customer-export'),
		    'an operator is offered no erase or PIPL export');

		/* ---- analyst: nothing it may not do ---- */
		await logout();
		await login(analyst);
		await goto('#/orders', '#orders-only');
		check(!await page.$('#orders-list'), 'analyst: orders say why, no list');
		await shot('orders-analyst');
		await goto('#/exports', '#scan-export-only');
		check(!await page.$('#export-scans') &&
		    await page.$('#export-customers') !== null,
		    'analyst: no scan file, the customer file offered');
		await shot('exports-analyst');
		await goto(`#/customer?id=${F.rich}`, '#section-orders table');
		const orow = await page.textContent('#section-orders tbody tr');
		check(orow.includes('仅运营和管理员可见') && !await page.$('#customer-erase'),
		    'analyst: no addresses, no erase');
		await shot('customer-analyst');
		await goto('#/feedback', '#feedback-list table');
		check(true, 'analyst reads the feedback inbox');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('people.js', main);
