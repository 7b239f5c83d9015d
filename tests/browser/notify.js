#!/usr/bin/env node
/*
 * notify.js - the dashboard's alert notification page (issue 21 part 6)
 * in Debian's headless Chromium, in zh-CN and Shanghai time (and once in
 * English), as a brand admin uses it:
 *
 *   no rules yet; a rule with a bad e-mail address is refused in Chinese
 *   and nothing is saved; a rule for counterfeit scans and diversion to
 *   an address, a WeCom robot and a signed DingTalk robot, as a daily
 *   digest at 09:00 Beijing time, is created and listed; "发送测试"
 *   shows all three channels delivered; the digest is asked for;
 *   in English once;
 *   an analyst sees a note, no form.
 *
 *   node tests/browser/notify.js BASE_URL ADMIN_EMAIL ANALYST_EMAIL \
 *       OUTDIR WECOM_URL DINGTALK_URL DINGTALK_SECRET
 *
 * The password is SIGIL_TEST_PASSWORD. Prints one line per check, then
 * one line of JSON {"failures", "dialogs", "console_errors", "shots"}.
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch,
    zhPage } = require('./lib');

async function main(argv) {
	if (argv.length !== 7) {
		process.stderr.write('usage: node notify.js BASE ADMIN ANALYST ' +
		    'OUTDIR WECOM_URL DINGTALK_URL SECRET\n');
		process.exit(2);
	}
	const [base, admin, analyst, outdir, wecom, ding, secret] = argv;
	const facts = { dialogs: [], console_errors: [], shots: [] };
	const browser = await launch();
	try {
		const page = await zhPage(browser);
		const vendor = await fetch(base + '/admin/vendor/echarts.js');
		watch(page, facts, { allow: [401, 422], vendor: vendor.status });
		const shot = shooter(page, facts, outdir, 'notify-');
		const { get, goto, login } = dashboard(page, base);
		const text = (sel) => page.textContent(sel);

		await login(admin);
		await goto('#/notify', '#nt-form');
		check((await text('h1')) === '告警通知', 'the page: 告警通知');
		await page.waitForSelector('#nt-list .empty');
		check((await text('#nt-list')).includes('还没有通知规则'),
		    'no rules yet');
		await shot('empty');

		await page.fill('#nt-name', '防伪安全组');
		await page.check('.nt-type[value=diversion]');
		await page.fill('#nt-emails', 'not an address');
		await page.click('#nt-create');
		await page.waitForSelector('#nt-msg:not([hidden])');
		check((await text('#nt-msg')).includes('规则有误'),
		    'a bad address: refused in Chinese');
		check(((await get('/api/v1/notify/rules')).rules || []).length === 0,
		    'nothing was saved');
		await shot('refused');

		await page.fill('#nt-emails', 'sec@acme.example\nboss@acme.example');
		await page.fill('#nt-wecom', wecom);
		await page.fill('#nt-ding', ding);
		await page.fill('#nt-ding-secret', secret);
		await page.selectOption('#nt-mode', 'daily');
		check(await page.isVisible('#nt-at'), 'daily: a time of day');
		await page.fill('#nt-at', '09:00');
		await page.click('#nt-create');
		await page.waitForSelector('#nt-list table');
		const rules = (await get('/api/v1/notify/rules')).rules || [];
		const r = rules[0] || {};
		check(rules.length === 1 && r.name === '防伪安全组' &&
		    r.mode === 'daily' && r.at === '09:00' && r.tz_offset === 480 &&
		    JSON.stringify(r.types) === '["diversion","counterfeit"]' &&
		    r.emails.length === 2 && r.dingtalk_secret_set === true,
		    'created as entered: ' + JSON.stringify(r));
		const row = await text('#nt-list table');
		check(row.includes('防伪安全组') && row.includes('每日摘要 09:00') &&
		    row.includes('假码扫描') && row.includes('窜货') &&
		    row.includes('已设置加签密钥') && !row.includes(secret),
		    'listed in Chinese, the secret never shown');
		await shot('created');

		await page.click('.nt-test');
		await page.waitForSelector('#nt-results:not([hidden]) table',
		    { timeout: 30000 });
		const res = await text('#nt-results');
		check((res.match(/已送达/g) || []).length === 3 &&
		    res.includes('邮件') && res.includes('企业微信') &&
		    res.includes('钉钉'), 'the test: three channels delivered');
		await shot('test');

		await page.click('.nt-digest');
		await page.waitForFunction(() => {
			const e = document.querySelector('#toast');
			return e && !e.hidden && e.textContent.includes('摘要');
		}, null, { timeout: 10000 });
		check((await text('#toast')).includes('摘要'), 'digest asked for');

		await page.click('.nt-toggle');
		await page.waitForFunction(() => {
			const e = document.querySelector('#nt-list');
			return e && e.textContent.includes('已停用');
		}, null, { timeout: 10000 });
		check(((await get('/api/v1/notify/rules')).rules[0] || {}).active ===
		    false, 'paused: the server says so');
		await shot('paused');
		await page.click('.nt-toggle');
		await page.waitForFunction(() => {
			const e = document.querySelector('#nt-list');
			return e && !e.textContent.includes('已停用');
		}, null, { timeout: 10000 });
		check(((await get('/api/v1/notify/rules')).rules[0] || {}).active ===
		    true, 'resumed');

		await page.click('#lang');
		await page.waitForFunction(() => document.querySelector('h1') &&
		    document.querySelector('h1').textContent ===
		    'Alert notifications', null, { timeout: 10000 });
		await page.waitForSelector('#nt-list table');
		check((await text('#nt-list')).includes('Daily digest 09:00') &&
		    (await text('#nt-list')).includes('Counterfeit scans'),
		    'in English');
		await shot('english');
		await page.click('#lang');
		await page.waitForSelector('#nt-form');

		const page2 = await zhPage(browser);
		watch(page2, facts, { allow: [401], vendor: vendor.status });
		const d2 = dashboard(page2, base);
		await d2.login(analyst);
		await d2.goto('#/notify', '#nt-admin-only');
		check(!(await page2.$('#nt-form')), 'an analyst: a note, no form');
		await shooter(page2, facts, outdir, 'notify-')('analyst');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('notify.js', main);
