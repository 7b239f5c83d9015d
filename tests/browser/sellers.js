#!/usr/bin/env node
/*
 * sellers.js - the seller's view and the channel page (issue 21 item 5)
 * in Debian's headless Chromium, zh-CN and Shanghai time:
 *
 *   the seller's phone (390x844, their device cookie) opens the scan page
 *   of a case it scanned but nobody bound: the page offers the bind
 *   (开箱绑定到我的门店); the member page shows the store, the one case
 *   opened so far and the two rebates, and binds the case; the scan page
 *   then says it is bound;
 *   the admin's channel page shows the store's and the seller's results
 *   and the tree, makes a new store, and says a refused seller in
 *   Chinese; an analyst sees the results and no form.
 *
 *   node tests/browser/sellers.js BASE ADMIN ANALYST OUTDIR DEVICE \
 *       CASE_PATH STORE_NAME
 *
 * DEVICE is the seller's device cookie (sg_d), CASE_PATH the unbound
 * case's /S/ path. The password is SIGIL_TEST_PASSWORD. Prints one line
 * per check, then one line of JSON {"failures", "dialogs",
 * "console_errors", "shots"}.
 */
'use strict';

const { TZ, check, dashboard, finish, launch, run, shooter, watch,
    zhPage } = require('./lib');

async function phone(browser, base, device, casePath, store, outdir, facts) {
	const context = await browser.newContext({ locale: 'zh-CN',
	    timezoneId: TZ, viewport: { width: 390, height: 844 },
	    isMobile: true, hasTouch: true,
	    /* a phone's browser: a headless one's scan counts as a bot's */
	    userAgent: 'Mozilla/5.0 (Linux; Android 13; Pixel 7) ' +
	    'AppleWebKit/537.36 (KHTML, like Gecko) ' +
	    'Chrome/120.0 Mobile Safari/537.36' });
	await context.addCookies([{ name: 'sg_d', value: device, url: base }]);
	const page = await context.newPage();
	watch(page, facts, { allow: [401] });
	const shot = shooter(page, facts, outdir, 'sellers-');
	const text = (sel) => page.textContent(sel);

	await page.goto(base + casePath, { waitUntil: 'load' });
	await page.waitForSelector('#seller:not([hidden])', { timeout: 10000 });
	check(await page.isVisible('#sl-go') &&
	    (await text('#sl-go')).includes('开箱绑定到我的门店'),
	    'the scan page offers the seller the bind');
	await shot('scan');

	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
	    page.click('#sl-go')]);
	await page.waitForSelector('#seller-bind:not([hidden])',
	    { timeout: 10000 });
	check((await text('#seller-store')).includes(store) &&
	    (await text('#seller-store')).includes('导购'),
	    'the member page: the seller\'s store and role');
	const before = await text('#seller-sum');
	check(before.includes('已开箱 1 个') && before.includes('领取 2 次') &&
	    before.includes('返利 2 笔，共 6 积分'),
	    `one case opened, two claims, two rebates of 3 (${before})`);
	check((await text('#seller-go')).includes('开箱绑定'),
	    'the bind button, in Chinese');

	await page.click('#seller-go');
	await page.waitForFunction(() => {
		const e = document.getElementById('seller-sum');
		return e && e.textContent.includes('已开箱 2 个');
	}, null, { timeout: 10000 });
	check((await text('#status')).includes('绑定成功'),
	    'bound: the page says so');
	check((await text('#seller-state')).includes('已绑定到您的门店') &&
	    !(await page.isVisible('#seller-go')),
	    'the code is now the seller\'s; no second bind offered');
	check((await page.$$('#seller-codes .row')).length === 2,
	    'two opened cases listed');
	await shot('member');

	await page.goto(base + casePath, { waitUntil: 'load' });
	await page.waitForSelector('#seller:not([hidden])', { timeout: 10000 });
	check(await page.isVisible('#sl-done') &&
	    !(await page.isVisible('#sl-go')),
	    'the scan page now says it is bound');
	await context.close();
}

async function main(argv) {
	if (argv.length !== 7) {
		process.stderr.write('usage: node sellers.js BASE ADMIN ANALYST ' +
		    'OUTDIR DEVICE CASE_PATH STORE_NAME\n');
		process.exit(2);
	}
	const [base, admin, analyst, outdir, device, casePath, store] = argv;
	const facts = { dialogs: [], console_errors: [], shots: [] };
	const browser = await launch();
	try {
		await phone(browser, base, device, casePath, store, outdir, facts);

		const page = await zhPage(browser);
		const vendor = await fetch(base + '/admin/vendor/echarts.js');
		watch(page, facts, { allow: [401, 404], vendor: vendor.status });
		const shot = shooter(page, facts, outdir, 'sellers-');
		const { get, goto, login } = dashboard(page, base);
		const text = (sel) => page.textContent(sel);

		await login(admin);
		await goto('#/sellers', '#store-results');
		const stores = await text('#store-results');
		check(stores.includes(store) && stores.includes('华东经销'),
		    'results by store: the store under its distributor');
		const res = await get('/api/v1/channel/results');
		const row = res.stores.find((s) => s.store_name === store);
		check(row && row.bound === 2 && row.claims === 2 &&
		    row.rebates === 2 && row.rebate_points === 6,
		    'the store: 2 opened, 2 claims, 2 rebates (6 points)');
		check((await text('#seller-results')).includes('导购') &&
		    (await text('#channel-tree')).includes(store),
		    'results by seller and the tree');
		await shot('dashboard');

		await page.fill('#store-new input[name=name]', '淮海路店');
		await page.fill('#store-new input[name=city]', '上海');
		await page.click('#store-new button[type=submit]');
		await page.waitForFunction(() => {
			const e = document.getElementById('channel-tree');
			return e && e.textContent.includes('淮海路店');
		}, null, { timeout: 10000 });
		check(true, 'a new store made from the page');

		const form = page.locator('form[id^=seller-add-]').last();
		await form.locator('input[name=customer]').fill('999999');
		await form.locator('button[type=submit]').click();
		await page.waitForSelector('#toast:not([hidden])');
		const toast = await text('#toast');
		check(toast.length > 0 && !/[A-Za-z]{3}/.test(toast),
		    `an unknown customer refused in Chinese (${toast})`);
		await shot('refused');

		const page2 = await zhPage(browser);
		watch(page2, facts, { allow: [401], vendor: vendor.status });
		const d2 = dashboard(page2, base);
		await d2.login(analyst);
		await d2.goto('#/sellers', '#store-results');
		check(!(await page2.$('#store-new')) &&
		    !(await page2.$('#binding-move')) &&
		    !(await page2.$('#channel-csv')),
		    'an analyst: results, no forms, no export');
		await shooter(page2, facts, outdir, 'sellers-')('analyst');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('sellers.js', main);
