#!/usr/bin/env node
/*
 * messages.js - the dashboard's lifecycle messages (issue 21 part 3) in
 * Debian's headless Chromium, in zh-CN and Shanghai time (and once in
 * English), as a brand's operator uses them:
 *
 *   the composer: a name, the text with placeholders inserted by the
 *   buttons, a schedule (yesterday 09:00: due at once), a cap;
 *   a dry run shows the counts (audience, consenting, capped, quiet)
 *   and a preview of the rendered texts, and sends nothing;
 *   empty quiet hours are refused in Chinese, nothing is stored;
 *   saved: the list shows it, the gateway gets it, and the message's
 *   deliveries are shown as sent;
 *   the WeChat template for replies saved;
 *   in English once;
 *   an analyst sees the list and a note, no composer.
 *
 *   node tests/browser/messages.js BASE_URL OPERATOR_EMAIL ANALYST_EMAIL \
 *       OUTDIR AUDIENCE CONSENTING
 *
 * The password is SIGIL_TEST_PASSWORD. Prints one line per check, then
 * one line of JSON {"failures", "dialogs", "console_errors", "shots"}.
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch,
    zhPage } = require('./lib');

async function main(argv) {
	if (argv.length !== 6) {
		process.stderr.write('usage: node messages.js BASE OPERATOR ' +
		    'ANALYST OUTDIR AUDIENCE CONSENTING\n');
		process.exit(2);
	}
	const [base, operator, analyst, outdir] = argv;
	const audience = Number(argv[4]), consenting = Number(argv[5]);
	const facts = { dialogs: [], console_errors: [], shots: [] };
	const browser = await launch();
	try {
		const page = await zhPage(browser);
		const vendor = await fetch(base + '/admin/vendor/echarts.js');
		/* 404: GET /api/v1/segments before saved segments exist. */
		watch(page, facts, { allow: [401, 404, 422],
		    vendor: vendor.status });
		const shot = shooter(page, facts, outdir, 'messages-');
		const { get, goto, login, english, chinese } =
		    dashboard(page, base);
		const text = (sel) => page.textContent(sel);

		await login(operator);
		await goto('#/messages', '#msg-form');
		check((await text('h1')) === '消息', 'the page is 消息');
		check((await text('#msg-list')).includes('还没有消息'),
		    'no messages yet');
		await shot('composer');

		await page.fill('#msg-name', '春节问候');
		await page.fill('#msg-text', '【春节】');
		await page.click('#msg-form .toolbar button:has-text("姓名")');
		await page.type('#msg-text', '您好，');
		await page.click('#msg-form .toolbar button:has-text("品牌")');
		await page.type('#msg-text', '祝您新春快乐！积分');
		await page.click('#msg-form .toolbar button:has-text("积分")');
		check((await page.inputValue('#msg-text')) ===
		    '【春节】{name}您好，{brand}祝您新春快乐！积分{points}',
		    'the placeholder buttons insert {name}, {brand}, {points}');
		const y = new Date(Date.now() - 86400e3);
		const p = (n) => String(n).padStart(2, '0');
		await page.fill('#msg-at', `${y.getFullYear()}-${p(y.getMonth() +
		    1)}-${p(y.getDate())}T09:00`);
		await page.fill('#msg-cap-days', '1');
		await page.fill('#msg-cap-max', '1');
		await page.fill('#msg-quiet-from', '21:00');
		await page.fill('#msg-quiet-to', '21:00');
		await page.click('#msg-dry-run');
		await page.waitForSelector('#msg-msg:not([hidden])');
		check((await text('#msg-msg')).includes('免打扰时段'),
		    'empty quiet hours: refused in Chinese');
		check((await get('/api/v1/messages')).messages.length === 0,
		    'nothing was stored');
		await shot('refused');

		await page.fill('#msg-quiet-from', '');
		await page.fill('#msg-quiet-to', '');
		await page.click('#msg-dry-run');
		await page.waitForSelector('#msg-counts');
		const n = async (k) => Number((await text(`#msg-c-${k} .value`))
		    .replace(/,/g, ''));
		check(await n('audience') === audience &&
		    await n('consenting') === consenting &&
		    await n('capped') === 0 && await n('send') === consenting,
		    `dry run: ${audience} in the audience, ${consenting} ` +
		    'consenting, all of them would get it');
		const pv = await page.$$eval('.msg-preview-text',
		    (es) => es.map((e) => e.textContent));
		check(pv.length === Math.min(consenting, 5) && pv.every((s) =>
		    s === '【春节】会员您好，acme祝您新春快乐！积分0'),
		    'the preview shows the rendered texts');
		check((await get('/api/v1/messages')).messages.length === 0,
		    'a dry run stores nothing');
		await shot('dry-run');

		await page.click('#msg-save');
		await page.waitForSelector('#msg-list .msg-open');
		check((await text('#msg-list')).includes('春节问候') &&
		    (await text('#msg-list')).includes('定时发送'),
		    'saved: the list shows it, scheduled');
		let sent = 0;
		for (let i = 0; i < 100 && sent < consenting; i++) {
			await page.waitForTimeout(200);
			const l = await get('/api/v1/messages');
			sent = l.messages[0].delivery.sent;
		}
		check(sent === consenting, `delivered to the ${consenting} ` +
		    'consenting customers');
		await goto('#/overview', '#kpi-scans');
		await goto('#/messages', '#msg-list .msg-open');
		check((await text('#msg-list')).includes(`已发送 ${consenting}`),
		    'the list counts them as sent');
		await page.click('#msg-list .msg-open');
		await page.waitForSelector('#msg-detail table');
		const states = await page.$$eval('#msg-detail tbody tr',
		    (rs) => rs.map((r) => r.textContent));
		check(states.length === consenting && states.every((s) =>
		    s.includes('已发送') && s.includes('短信')),
		    'the deliveries: every one sent by SMS');
		await shot('deliveries');

		await page.fill('#msg-svc-template', 'TPL_REPLY');
		await page.fill('#msg-svc-field', 'keyword1');
		await page.click('#msg-svc-save');
		let svc = null;
		for (let i = 0; i < 50 && !svc; i++) {
			await page.waitForTimeout(100);
			svc = (await get('/api/v1/messages/settings')).service_wechat;
		}
		check(svc && svc.template_id === 'TPL_REPLY' &&
		    svc.field === 'keyword1',
		    'the WeChat template for replies saved');
		await shot('service-template', '#msg-svc');

		await english('Messages', '#msg-list .msg-open');
		check((await text('#msg-list')).includes('At a time') &&
		    (await text('#msg-form')).includes('Dry run'),
		    'in English: the list and the composer');
		await shot('english');
		await chinese('#msg-form');

		const page2 = await zhPage(browser);
		watch(page2, facts, { allow: [401, 404],
		    vendor: vendor.status });
		const d2 = dashboard(page2, base);
		await d2.login(analyst);
		await d2.goto('#/messages', '#msg-list .msg-open');
		check(await page2.isVisible('#msg-read-only') &&
		    !(await page2.$('#msg-form')) &&
		    !(await page2.$('.msg-delete')),
		    'an analyst: the list and a note, no composer');
		await shooter(page2, facts, outdir, 'messages-')('analyst');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('messages.js', main);
