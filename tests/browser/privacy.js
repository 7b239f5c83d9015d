#!/usr/bin/env node
/*
 * privacy.js - the privacy notice, the consent choices and the member
 * page's profile in headless Chromium (issue 20's Playwright line): a
 * phone at 390x844 in zh-CN (Shanghai) scans a code, reads the brand's
 * notice above the phone field, is stopped until it agrees, ticks the
 * choices, logs in, then edits its profile and withdraws marketing on
 * the member page; a brand admin (1440x900) sees the privacy settings
 * and the customer's consent card on the dashboard.
 *
 *   node tests/browser/privacy.js BASE CODE_PATH OUTBOX OUTDIR EMAIL NOTICE
 *
 * (password in SIGIL_TEST_PASSWORD; NOTICE: the current notice's zh-CN
 * text). Prints ok/FAIL lines, then one line of JSON: {"customer": the
 * id the login made, "shots": [...], "failures"}.
 */
'use strict';

const fs = require('fs');
const { check, dashboard, finish, launch, run, shooter, TZ, watch,
	zhPage } = require('./lib');

function lastOtp(outbox, phone) {
	let code = null;
	for (const line of fs.readFileSync(outbox, 'utf8').split('\n')) {
		const m = / phone=(\d+) code=(\d{6})$/.exec(line.trim());
		if (m && m[1] === '86' + phone)
			code = m[2];
	}
	return code;
}

async function main(argv) {
	const [base, codePath, outbox, outdir, email, notice] = argv;
	const facts = {};
	const browser = await launch();
	try {
		const ctx = await browser.newContext({
			viewport: { width: 390, height: 844 }, deviceScaleFactor: 2,
			isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: TZ,
			/* A phone's browser (headless Chromium's own reads as a bot). */
			userAgent: 'Mozilla/5.0 (Linux; Android 13; Pixel 7) ' +
			    'AppleWebKit/537.36 (KHTML, like Gecko) ' +
			    'Chrome/120.0 Mobile Safari/537.36',
		});
		const page = await ctx.newPage();
		watch(page, facts, { origin: base, allow: [401] });
		const shot = shooter(page, facts, outdir, 'privacy-');
		const sent = [];
		page.on('request', (r) => {
			if (r.url().includes('/api/v1/customers/'))
				sent.push(r.url());
		});

		/* 1. The notice comes before the phone. */
		await page.goto(base + codePath, { waitUntil: 'networkidle' });
		await page.waitForSelector('#pv:not([hidden])', { timeout: 10000 });
		const order = await page.evaluate(() => {
			const a = document.getElementById('pv');
			const b = document.getElementById('rw-phone');
			return !!(a.compareDocumentPosition(b) &
			    Node.DOCUMENT_POSITION_FOLLOWING);
		});
		check(order, 'the notice and the choices stand above the phone field');
		const text = await page.textContent('#pv-text');
		check(text === notice, 'the page shows the brand\'s current notice ' +
		    'in zh-CN');
		check(await page.textContent('#pv-ver') === '版本 2',
		    'with its version: ' + await page.textContent('#pv-ver'));
		const labels = await page.$$eval('#pv label.opt:not([hidden]) span',
		    (s) => s.map((x) => x.textContent));
		check(labels.length === 3 && labels[0].startsWith('我已阅读并同意') &&
		    labels[1].startsWith('接收品牌的优惠') &&
		    labels[2].startsWith('允许品牌保存我的个人资料'),
		    'three choices in Chinese: ' + JSON.stringify(labels));
		await page.waitForSelector('#pv-foot:not([hidden])');
		check(await page.textContent('#pv-foot-text') === notice,
		    'the notice can also be opened at the foot of the page');
		const boxes = await page.$$eval('#pv input[type=checkbox]',
		    (s) => s.map((x) => x.checked));
		check(boxes.every((b) => !b), 'nothing is ticked for the consumer');
		await shot('01-notice');

		/* 2. No code is asked for before the notice is agreed to. */
		await page.fill('#rw-phone', '13800000009');
		await page.click('#rw-send');
		await page.waitForTimeout(300);
		check(await page.textContent('#rw-status') === '请先阅读并同意隐私说明' &&
		    sent.length === 0, 'not agreed: the page asks for agreement and ' +
		    'sends nothing');

		/* 3. The choices, then the login. */
		await page.check('#pv-agree');
		await page.check('#pv-mkt');
		await page.check('#pv-prof');
		await shot('02-choices');
		await Promise.all([page.waitForResponse((r) =>
		    r.url().endsWith('/api/v1/customers/otp')), page.click('#rw-send')]);
		check(/^验证码已发送/.test(await page.textContent('#rw-status')),
		    'agreed: the code is sent');
		await page.fill('#rw-otp', lastOtp(outbox, '13800000009'));
		const [vr] = await Promise.all([page.waitForResponse((r) =>
		    r.url().endsWith('/api/v1/customers/verify')),
		    page.click('#rw-verify')]);
		const v = await vr.json();
		check(vr.status() === 200, 'logged in: ' + vr.status());
		facts.customer = v.customer && v.customer.id;

		/* 4. The member page: consents and the profile. */
		await page.goto(base + '/member?code=' + encodeURIComponent(base +
		    codePath), { waitUntil: 'networkidle' });
		await page.waitForSelector('#prof:not([hidden]) #pf-name',
		    { timeout: 10000 });
		check(await page.isChecked('#c-mkt') && await page.isChecked('#c-prof'),
		    'the member page shows marketing and profile as agreed');
		const fields = await page.$$eval('#prof-f label', (s) =>
		    s.map((x) => x.textContent));
		check(JSON.stringify(fields) === JSON.stringify(['姓名', '性别', '生日',
		    '城市', '兴趣标签（用逗号分隔）']),
		    'the fields the brand collects, in Chinese: ' +
		    JSON.stringify(fields));
		await page.fill('#pf-name', '王五');
		await page.selectOption('#pf-gender', 'female');
		await page.fill('#pf-birthday', '1990-05-20');
		await page.fill('#pf-city', '杭州');
		await page.fill('#pf-tags', '茶，VIP');
		await Promise.all([page.waitForResponse((r) =>
		    r.url().includes('/api/v1/me/profile') &&
		    r.request().method() === 'PUT'), page.click('#prof-save')]);
		await page.waitForTimeout(400);
		check(await page.textContent('#status') === '已保存',
		    'the profile is saved: ' + await page.textContent('#status'));
		check(await page.inputValue('#pf-name') === '王五' &&
		    await page.inputValue('#pf-tags') === '茶，VIP',
		    'and read back from the server');
		await shot('03-member-profile');

		/* 5. Withdrawal is as easy: one untick. */
		await Promise.all([page.waitForResponse((r) =>
		    r.url().includes('/api/v1/me/consents') &&
		    r.request().method() === 'POST'), page.uncheck('#c-mkt')]);
		await page.waitForTimeout(300);
		check(!await page.isChecked('#c-mkt') &&
		    await page.textContent('#status') === '已更新',
		    'marketing withdrawn with one untick');
		await page.click('#pv-show');
		check(await page.textContent('#pv-again') === notice,
		    'the notice can be read again on the member page');
		await shot('04-member-withdrawn');
		await ctx.close();

		/* 5b. Another phone logs in on the member page itself. */
		const ctx2 = await browser.newContext({
			viewport: { width: 390, height: 844 }, deviceScaleFactor: 2,
			isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: TZ,
			userAgent: 'Mozilla/5.0 (Linux; Android 13; Pixel 7) ' +
			    'AppleWebKit/537.36 (KHTML, like Gecko) ' +
			    'Chrome/120.0 Mobile Safari/537.36',
		});
		const mp = await ctx2.newPage();
		watch(mp, facts, { origin: base, allow: [401] });
		const mshot = shooter(mp, facts, outdir, 'privacy-');
		await mp.goto(base + '/member?brand=acme', { waitUntil: 'networkidle' });
		await mp.waitForSelector('#login:not([hidden]) #pv:not([hidden])',
		    { timeout: 10000 });
		check(await mp.textContent('#pv-text') === notice &&
		    await mp.evaluate(() => !!(document.getElementById('pv')
		    .compareDocumentPosition(document.getElementById('phone')) &
		    Node.DOCUMENT_POSITION_FOLLOWING)),
		    'the member page shows the notice above its phone field');
		await mp.fill('#phone', '13800000010');
		await mp.click('#send');
		await mp.waitForTimeout(300);
		check(await mp.textContent('#status') === '请先阅读并同意隐私说明',
		    'the member page, too, asks for agreement first');
		await mp.check('#pv-agree');
		await mp.check('#pv-mkt');
		await mshot('07-member-login');
		await Promise.all([mp.waitForResponse((r) =>
		    r.url().endsWith('/api/v1/customers/otp')), mp.click('#send')]);
		await mp.fill('#otp', lastOtp(outbox, '13800000010'));
		const [mv] = await Promise.all([mp.waitForResponse((r) =>
		    r.url().endsWith('/api/v1/customers/verify')),
		    mp.click('#verify')]);
		check(mv.status() === 200, 'logged in on the member page');
		facts.member_customer = (await mv.json()).customer.id;
		await mp.waitForSelector('#privacy-c:not([hidden])');
		check(await mp.isChecked('#c-mkt') && !await mp.isChecked('#c-prof') &&
		    await mp.isHidden('#prof'), 'marketing on, no profile ' +
		    'consent: no profile form');
		await ctx2.close();

		/* 6. The dashboard: the settings and the customer's card. */
		const dpage = await zhPage(browser);
		watch(dpage, facts, { origin: base });
		const dshot = shooter(dpage, facts, outdir, 'privacy-');
		const d = dashboard(dpage, base);
		await d.login(email);
		await d.goto('#/privacy', '#pv-notice');
		check(/当前版本: 2/.test(await dpage.textContent('#pv-current')),
		    'the dashboard shows the current version');
		check(await dpage.inputValue('#pv-zh') === notice,
		    'and its text, ready to edit');
		await dshot('05-dashboard-settings');
		await d.goto('#/customer?id=' + facts.customer,
		    '#customer-consents table');
		const pills = await dpage.$$eval('#consent-current .pill',
		    (s) => s.map((x) => x.textContent));
		check(JSON.stringify(pills) === JSON.stringify(['服务: 已同意',
		    '营销消息: 未同意', '个人资料: 已同意']),
		    'the customer card: ' + JSON.stringify(pills));
		const prof = await dpage.textContent('#customer-privacy-profile');
		check(prof.includes('王五') && prof.includes('女') &&
		    prof.includes('1990-05-20') && prof.includes('杭州'),
		    'the customer card shows the profile: ' + prof);
		await dshot('06-dashboard-customer');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('privacy.js', main);
