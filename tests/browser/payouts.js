#!/usr/bin/env node
/*
 * payouts.js - cash rewards (issue 22) in Debian's headless Chromium:
 *
 *   the customer's phone in WeChat (zh-CN, 390x844, her device cookie;
 *   WeixinJSBridge a fake that records each invoke and has the WeChat
 *   Pay stand-in confirm the bill) claims a code on its scan page: the
 *   page shows 红包 ¥1.88 and 处理中, then 待确认收款 with 确认收款, which
 *   hands requestMerchantTransfer {mchId, appId, package}; then 已到账.
 *   Her earlier claim's page reads the same; an English phone reads it
 *   in English; a browser outside WeChat shows no confirm button. The
 *   member page lists her cash.
 *   The dashboard's cash page (an admin, zh-CN then English): each
 *   campaign's budget and states, the hold queue (approve one, reject
 *   one through the page's dialog), the statement CSV's columns, the
 *   settings with the key's fingerprint and never the key; an analyst
 *   sees neither approve, statement nor settings. The customer page
 *   shows her red packets.
 *
 *   node tests/browser/payouts.js BASE ADMIN ANALYST OUTDIR DEVICE \
 *       NEW_CODE CLAIMED_CODE STANDIN MCHID APPID HELD_JSON CUSTOMER
 *
 * DEVICE is the customer's device cookie (sg_d), NEW_CODE a code of the
 * cash campaign she has not claimed, CLAIMED_CODE one she claimed (its
 * transfer waits for her), STANDIN the WeChat Pay stand-in's base URL,
 * HELD_JSON the two held payouts' claim ids, CUSTOMER her customer id. The password is
 * SIGIL_TEST_PASSWORD. Prints one line per check, then one line of JSON
 * {"failures", "dialogs", "console_errors", "shots"}.
 */
'use strict';

const { TZ, check, dashboard, finish, launch, run, shooter, watch,
    zhPage } = require('./lib');

const PHONE_UA = 'Mozilla/5.0 (Linux; Android 13; Pixel 7) ' +
    'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile ' +
    'Safari/537.36 MicroMessenger/8.0.47';

/* WeChat's bridge, as far as the page uses it: each call recorded; the
 * user's 确认收款 made at the stand-in (node's side: the page may call
 * only its own origin) before WeChat's callback. */
const FAKE_BRIDGE = `window.__calls = [];
window.WeixinJSBridge = { invoke: function (name, args, cb) {
	window.__calls.push({ name: name, args: args });
	window.__confirm(args.package).then(function () {
		cb({ err_msg: name + ':ok' });
	});
} };`;

async function phone(browser, a, facts, opts) {
	const context = await browser.newContext({ locale: opts.locale,
	    timezoneId: TZ, viewport: { width: 390, height: 844 },
	    isMobile: true, hasTouch: true, userAgent: PHONE_UA });
	await context.addCookies([{ name: 'sg_d', value: a.device,
	    url: a.base }]);
	if (opts.bridge) {
		await context.exposeFunction('__confirm', async (pkg) => {
			const no = a.packages[pkg];
			const r = await fetch(a.standin + '/standin/confirm/' + no,
			    { method: 'POST' });
			return r.status;
		});
		await context.addInitScript(FAKE_BRIDGE);
	}
	const page = await context.newPage();
	watch(page, facts, { allow: [401] });
	return { context, page };
}

/* Waits until #rw-cash says what. */
async function cashSays(page, what) {
	await page.waitForFunction((w) => {
		const e = document.getElementById('rw-cash');
		return e && e.textContent.includes(w);
	}, what, { timeout: 20000 });
}

async function consumer(browser, a, facts) {
	const { context, page } = await phone(browser, a, facts,
	    { locale: 'zh-CN', bridge: true });
	const shot = shooter(page, facts, a.outdir, 'cash-');
	/* The transfers' packages, to name the bill the fake confirms. */
	const mine = async () => page.evaluate(async (b) =>
	    (await (await fetch(b + '/api/v1/me/payouts')).json()).payouts, a.base);

	await page.goto(a.base + a.newCode, { waitUntil: 'load' });
	await page.waitForSelector('#rw-go:not([hidden])', { timeout: 10000 });
	await page.click('#rw-go');
	await cashSays(page, '红包 ¥1.88');
	check(/处理中|待确认收款/.test(await page.textContent('#rw-cash')),
	    'after the claim: the amount and its state in Chinese');
	await cashSays(page, '待确认收款');
	check(await page.isVisible('#rw-take') &&
	    (await page.textContent('#rw-take')).includes('确认收款'),
	    'WeChat Pay holds the bill: 待确认收款 and the 确认收款 button');
	await shot('scan-confirm');
	for (const p of await mine())
		if (p.confirm)
			a.packages[p.confirm.package] = 'SG1C' + p.claim_id;
	await page.click('#rw-take');
	await cashSays(page, '已到账');
	const calls = await page.evaluate(() => window.__calls);
	check(calls.length === 1 && calls[0].name === 'requestMerchantTransfer' &&
	    calls[0].args.mchId === a.mchid && calls[0].args.appId === a.appid &&
	    typeof calls[0].args.package === 'string' &&
	    calls[0].args.package.length > 10,
	    '确认收款 hands WeChat requestMerchantTransfer {mchId, appId, ' +
	    'package}: ' + JSON.stringify(calls.map((c) => c.args.mchId)));
	check(!(await page.isVisible('#rw-take')),
	    'paid: 已到账, the button gone');
	await shot('scan-paid');

	/* Her earlier claim: its page says where its money is. */
	await page.goto(a.base + a.claimedCode, { waitUntil: 'load' });
	await cashSays(page, '待确认收款');
	check((await page.textContent('#rw-status')).length > 0,
	    'an earlier claim\'s page: claimed, and its cash waits for her');
	await page.click('#rw-take');
	await cashSays(page, '已到账');
	check(true, 'accepted from the earlier claim\'s page too: 已到账');

	await page.goto(a.base + '/member', { waitUntil: 'load' });
	await page.waitForSelector('#cash-c:not([hidden])', { timeout: 10000 });
	const rows = await page.$$eval('#cash .row', (r) =>
	    r.map((x) => x.textContent));
	check(rows.length === 2 && rows.every((r) => r.includes('¥1.88') &&
	    r.includes('已到账')) &&
	    (await page.textContent('#cash-h')).includes('现金红包'),
	    'the member page lists her two red packets, paid: ' +
	    JSON.stringify(rows));
	await shot('member');
	await context.close();

	/* In English, outside WeChat: the same state, no button. */
	const en = await phone(browser, a, facts, { locale: 'en-US',
	    bridge: false });
	await en.page.goto(a.base + a.claimedCode, { waitUntil: 'load' });
	await cashSays(en.page, 'Red packet ¥1.88');
	check((await en.page.textContent('#rw-cash')).includes('Paid') &&
	    !(await en.page.isVisible('#rw-take')),
	    'an English phone: "Red packet ¥1.88 · Paid"');
	await shooter(en.page, facts, a.outdir, 'cash-')('scan-en');
	await en.context.close();
}

async function brandPages(browser, a, facts) {
	const page = await zhPage(browser);
	const vendor = await fetch(a.base + '/admin/vendor/echarts.js');
	watch(page, facts, { allow: [401, 404, 409, 422],
	    vendor: vendor.status });
	const shot = shooter(page, facts, a.outdir, 'cash-');
	const d = dashboard(page, a.base);
	const text = (sel) => page.textContent(sel);

	await d.login(a.admin);
	await d.goto('#/payouts', '#po-campaigns table');
	const camp = await text('#po-campaigns');
	check(camp.includes('red') && camp.includes('big') &&
	    camp.includes('¥1000.00') && camp.includes('¥50.00'),
	    'each cash campaign with its budget: ' + camp.slice(0, 120));
	await page.waitForSelector('#po-queue table', { timeout: 10000 });
	const [h1, h2] = a.held;
	check(await page.isVisible('#po-approve-' + h1) &&
	    await page.isVisible('#po-reject-' + h2),
	    'the hold queue: both held payouts with approve and reject');
	await shot('dashboard');

	await page.click('#po-approve-' + h1);
	await page.waitForSelector('#toast:not([hidden])');
	check((await text('#toast')).includes('已通过'),
	    'approved: the page says so in Chinese');
	await page.waitForSelector('#po-reject-' + h2, { timeout: 10000 });
	await page.click('#po-reject-' + h2);
	await page.waitForSelector('#modal:not([hidden])');
	check((await text('#modal-body')).includes('退回活动预算'),
	    'reject asks first, saying the amount returns to the budget');
	await page.fill('#po-reason', '同一设备多次领取');
	await page.click('#modal-ok');
	await page.waitForFunction(() => {
		const e = document.getElementById('po-queue');
		return e && e.textContent.includes('没有待审核的红包');
	}, null, { timeout: 10000 });
	check(true, 'the queue is empty once both are decided');
	const r = await d.get('/api/v1/payouts/' + h2);
	check(r.state === 'rejected' && r.fail_reason === '同一设备多次领取',
	    'the server: rejected with its reason');

	const href = await page.getAttribute('#po-csv', 'href');
	check(/statement\.csv\?date=\d{4}-\d\d-\d\d&lang=zh/.test(href),
	    'the statement link names the day and the language: ' + href);
	const csv = await page.evaluate(async (u) =>
	    (await fetch(u)).text(), href);
	const head = csv.replace(/^\ufeff/, '').split('\r\n')[0];
	check(head.startsWith('"商户单号","微信转账单号","转账金额(元)","状态",' +
	    '"收款用户OpenID","创建时间","更新时间"'),
	    'the CSV has WeChat Pay\'s transfer-bill columns: ' + head);

	const sv = await page.inputValue('#po-set-mchid');
	check(sv === a.mchid && (await text('#po-key-state')).includes('已设置') &&
	    /SHA256:[0-9a-f]{64}/.test(await text('#po-key-state')) &&
	    (await page.inputValue('#po-key-pem')) === '' &&
	    !(await page.content()).includes('PRIVATE KEY'),
	    'settings: the merchant, the key set with its fingerprint, the key ' +
	    'itself nowhere');
	await page.click('#po-key-save');
	await page.waitForSelector('#po-key-msg:not([hidden])');
	const kmsg = await text('#po-key-msg');
	check(kmsg.length > 0 && !/[A-Za-z]{4}/.test(kmsg),
	    'an empty keys form is refused in Chinese: ' + kmsg);
	await shot('settings');

	await d.goto('#/customer?id=' + a.customer, '#customer-card');
	await page.waitForSelector('#customer-cash:not([hidden]) table',
	    { timeout: 10000 });
	const cc = await text('#customer-cash');
	check(cc.includes('现金红包') && (cc.match(/1\.88/g) || []).length === 2 &&
	    cc.includes('已到账'), 'the customer page: her two red packets, paid');
	await d.goto('#/payouts', '#po-campaigns table');

	await d.english('Cash rewards (WeChat Pay merchant transfer)',
	    '#po-campaigns table');
	check((await text('#po-campaigns')).includes('Budget') &&
	    (await text('#po-queue')).includes('Nothing is held') &&
	    (await text('#po-statement')).includes('Download statement CSV'),
	    'the page in English');
	await shot('dashboard-en');
	await d.chinese('#po-campaigns table');

	const page2 = await zhPage(browser);
	watch(page2, facts, { allow: [401], vendor: vendor.status });
	const d2 = dashboard(page2, a.base);
	await d2.login(a.analyst);
	await d2.goto('#/payouts', '#po-campaigns table');
	await page2.waitForSelector('#po-list table', { timeout: 10000 });
	check(!(await page2.$('[id^=po-approve-]')) &&
	    !(await page2.$('#po-statement')) &&
	    !(await page2.$('#po-settings-form')) &&
	    (await page2.textContent('#po')).includes('只有管理员'),
	    'an analyst: campaigns and payouts, no approve, statement or ' +
	    'settings');
	await shooter(page2, facts, a.outdir, 'cash-')('analyst');
}

async function main(argv) {
	if (argv.length !== 12) {
		process.stderr.write('usage: node payouts.js BASE ADMIN ANALYST ' +
		    'OUTDIR DEVICE NEW_CODE CLAIMED_CODE STANDIN MCHID APPID ' +
		    'HELD_JSON CUSTOMER\n');
		process.exit(2);
	}
	const [base, admin, analyst, outdir, device, newCode, claimedCode,
	    standin, mchid, appid, held, customer] = argv;
	const a = { base, admin, analyst, outdir, device, newCode, claimedCode,
	    standin, mchid, appid, held: JSON.parse(held), customer,
	    packages: {} };
	const facts = { dialogs: [], console_errors: [], shots: [] };
	const browser = await launch();
	try {
		await consumer(browser, a, facts);
		await brandPages(browser, a, facts);
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('payouts.js', main);
