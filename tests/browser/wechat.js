#!/usr/bin/env node
/*
 * wechat.js - the dashboard's WeChat page and the customer page's WeChat
 * card (issue 20) in Debian's headless Chromium, zh-CN, Shanghai time,
 * as a brand admin uses them:
 *
 *   设置 → 微信: the mini-program the set-up configured shows its AppID
 *   and "已设置" for its secret, never the secret; a bad AppID is
 *   refused in Chinese and nothing changes; the official account is
 *   added (AppID, AppSecret, the nickname switch) and saved; after a
 *   reload no secret is in the page, both secrets say 已设置;
 *   the customer list shows the WeChat customer's phone as 微信;
 *   the customer's page shows its WeChat identities, masked;
 *   an analyst gets a note instead of the form.
 *
 *   node tests/browser/wechat.js BASE ADMIN ANALYST CUSTOMER_ID OUTDIR
 *
 * The password is SIGIL_TEST_PASSWORD; SIGIL_TEST_SECRETS holds the two
 * AppSecrets (the mini-program's, set up before; the official
 * account's, typed here) that must never appear in a page. Prints one
 * line per check, then one line of JSON {"failures", "dialogs",
 * "console_errors", "shots"}.
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch,
    zhPage } = require('./lib');

const OA = 'wx1a2b3c4d5e6f7081';

async function main(argv) {
	if (argv.length !== 5) {
		process.stderr.write('usage: node wechat.js BASE ADMIN ANALYST ' +
		    'CUSTOMER_ID OUTDIR\n');
		process.exit(2);
	}
	const [base, admin, analyst, cid, outdir] = argv;
	const [mpSecret, oaSecret] = process.env.SIGIL_TEST_SECRETS.split(',');
	const facts = { dialogs: [], console_errors: [], shots: [] };
	const browser = await launch();
	try {
		const page = await zhPage(browser);
		const vendor = await fetch(base + '/admin/vendor/echarts.js');
		watch(page, facts, { allow: [401, 422], vendor: vendor.status });
		const shot = shooter(page, facts, outdir, 'wechat-');
		const { get, goto, login } = dashboard(page, base);
		const noSecret = async (what) => {
			const html = await page.content();
			check(!html.includes(mpSecret) && !html.includes(oaSecret),
			    'no AppSecret in the page ' + what);
		};

		await login(admin);
		await page.click('#nav a[data-group=settings]');
		const nav = await page.waitForSelector('#subnav a[data-page=wechat]');
		check(nav !== null && (await nav.textContent()) === '微信',
		    'the settings have a 微信 page');
		await nav.click();
		await page.waitForSelector('#wx-form');
		check(await page.inputValue('#wx-mp-appid') !== '' &&
		    await page.inputValue('#wx-mp-secret') === '' &&
		    /已设置/.test(await page.getAttribute('#wx-mp-secret',
		    'placeholder')), 'the mini-program: its AppID, its secret ' +
		    'only said to be set');
		check(/未设置/.test(await page.getAttribute('#wx-oa-secret',
		    'placeholder')), 'the official account: no secret yet');
		await noSecret('as loaded');
		await shot('settings');

		/* a bad AppID: refused in Chinese, nothing stored */
		await page.fill('#wx-oa-appid', 'wx123');
		await page.fill('#wx-oa-secret', oaSecret);
		await page.click('#wx-save');
		await page.waitForSelector('#wx-msg:not([hidden])');
		const msg = await page.textContent('#wx-msg');
		check(/AppID 为 wx 加 16 位十六进制字符/.test(msg),
		    'a bad AppID is refused in Chinese: ' + msg);
		const cfg0 = await get('/api/v1/wechat');
		check(cfg0.oa === null, 'nothing was stored');
		await shot('refused');

		/* the official account added */
		await page.fill('#wx-oa-appid', OA);
		await page.fill('#wx-oa-secret', oaSecret);
		await page.check('#wx-userinfo');
		await page.click('#wx-save');
		await page.waitForFunction(() => {
			const s = document.querySelector('#wx-oa-secret');
			return s && /已设置/.test(s.placeholder);
		}, null, { timeout: 10000 });
		const cfg = await get('/api/v1/wechat');
		check(cfg.oa && cfg.oa.appid === OA && cfg.oa.secret_set &&
		    cfg.oa.userinfo === true && cfg.mp && cfg.mp.secret_set,
		    'saved: the official account with the nickname switch, the ' +
		    'mini-program kept');
		await page.reload({ waitUntil: 'load' });
		await page.waitForSelector('#wx-form');
		check(await page.inputValue('#wx-oa-secret') === '' &&
		    await page.isChecked('#wx-userinfo'),
		    'after a reload: the switch on, the secret field empty');
		await noSecret('after saving');
		await shot('saved');

		/* the customer list and the customer */
		await goto('#/customers', '#nav');
		await page.waitForSelector('a.customer-link', { timeout: 10000 });
		const cell = await page.$$eval('table tbody tr', (trs, id) => {
			const tr = trs.find((r) => r.querySelector(
			    'a.customer-link').textContent === '#' + id);
			return tr ? tr.children[1].textContent : null;
		}, cid);
		check(cell === '微信', 'the list: a WeChat customer\'s phone ' +
		    'cell says 微信 (' + cell + ')');
		await shot('list');
		await goto('#/customer?id=' + cid, '#customer-wechat');
		const card = await page.textContent('#customer-wechat');
		check(/微信身份/.test(card) && /小程序 openid/.test(card) &&
		    /unionid/.test(card) && /\*\*\*\*/.test(card),
		    'the customer page: the WeChat identities, masked');
		await shot('customer', '#customer-wechat');
		await noSecret('on the customer page');

		/* an analyst: a note, no form */
		const page2 = await zhPage(browser);
		watch(page2, facts, { allow: [401, 403], vendor: vendor.status });
		const d2 = dashboard(page2, base);
		await d2.login(analyst);
		await d2.goto('#/wechat', '.notice');
		check(await page2.$('#wx-form') === null &&
		    /只有管理员/.test(await page2.textContent('.notice')),
		    'an analyst is told only an admin may');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('wechat', main);
