#!/usr/bin/env node
/*
 * feedback.js - the feedback loop (issue 21 item 4) in Debian's headless
 * Chromium, in zh-CN and Shanghai time, as a consumer and a brand use it:
 *
 *   a phone (390x844) scans a genuine code: the rating form (a plain
 *   form, no script) fits the screen, does not send without stars, and
 *   4 stars and a comment are sent and thanked for;
 *   a phone scans a forged code: the "report a fake" form refuses an
 *   empty place in Chinese, then sends the place, a comment and a photo;
 *   the brand's admin opens the feedback inbox: both entries, the photo
 *   shown, the satisfaction tiles and chart; replies to the rating (the
 *   row then says 已回复) and closes the fake report (已关闭).
 *
 *   node tests/browser/feedback.js BASE_URL GENUINE_PATH FORGED_PATH \
 *       ADMIN_EMAIL OUTDIR PHOTO_PNG
 *
 * The password is SIGIL_TEST_PASSWORD. Prints one line per check, then
 * one line of JSON {"failures", "dialogs", "console_errors", "shots"}.
 */
'use strict';

const { TZ, check, dashboard, finish, launch, run, shooter, watch,
    zhPage } = require('./lib');

async function phone(browser) {
	const context = await browser.newContext({ locale: 'zh-CN',
	    timezoneId: TZ, viewport: { width: 390, height: 844 },
	    deviceScaleFactor: 2, isMobile: true, hasTouch: true,
	    /* A phone, not HeadlessChrome: a bot gets no forms (scan.c). */
	    userAgent: 'Mozilla/5.0 (Linux; Android 13; Pixel 7) ' +
	    'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile ' +
	    'Safari/537.36' });
	return context.newPage();
}

/* Says on stderr which request failed (the console names no URL). */
function noteFailures(page, who) {
	page.on('response', (r) => {
		if (r.status() >= 400)
			process.stderr.write(`${who}: ${r.status()} ${r.url()}\n`);
	});
}

async function fits(page, sel) {
	return page.evaluate((s) => {
		const e = document.querySelector(s);
		const r = e.getBoundingClientRect();
		return r.left >= 0 && r.right <= window.innerWidth + 0.5 &&
		    document.documentElement.scrollWidth <= window.innerWidth;
	}, sel);
}

async function main(argv) {
	if (argv.length !== 6) {
		process.stderr.write('usage: node feedback.js BASE GENUINE ' +
		    'FORGED ADMIN OUTDIR PHOTO\n');
		process.exit(2);
	}
	const [base, genuine, forged, admin, outdir, photo] = argv;
	const facts = { dialogs: [], console_errors: [], shots: [] };
	const browser = await launch();
	try {
		/* ---- the consumer's rating ---- */
		const p1 = await phone(browser);
		watch(p1, facts, { allow: [], origin: new URL(base).origin });
		noteFailures(p1, 'phone 1');
		const shot1 = shooter(p1, facts, outdir, 'feedback-');
		await p1.goto(base + genuine, { waitUntil: 'load' });
		await p1.waitForSelector('#fb');
		check((await p1.textContent('#fb h2')).includes('为这件商品打分'),
		    'a genuine scan: the rating form (为这件商品打分)');
		check(await fits(p1, '#fb'), 'the rating form fits 390 px');
		check(!(await p1.$('#fk')), 'no fake report on a genuine page');
		check(!(await p1.evaluate(() => document.getElementById('fb')
		    .checkValidity())), 'no stars yet: the form will not send');
		await p1.click('label[for=fb4]');
		check(await p1.evaluate(() => document.querySelectorAll(
		    '#fb label').length === 5 && getComputedStyle(
		    document.querySelector('label[for=fb1]')).color ===
		    getComputedStyle(document.querySelector('label[for=fb4]'))
		    .color && getComputedStyle(document.querySelector(
		    'label[for=fb5]')).color !== getComputedStyle(
		    document.querySelector('label[for=fb4]')).color),
		    '4 stars chosen: stars 1 to 4 lit, the fifth not');
		await p1.fill('#fb textarea', '茶香很浓，包装完好。');
		await p1.locator('#fb').scrollIntoViewIfNeeded();
		await shot1('landing-rating');
		await Promise.all([p1.waitForNavigation(), p1.click('#fb button')]);
		await p1.waitForSelector('#fb-done');
		check((await p1.textContent('#fb-done')).includes('谢谢您的评价'),
		    'sent without a script: the answer page thanks in Chinese');
		await shot1('landing-rated');

		/* ---- the consumer's fake report ---- */
		const p2 = await phone(browser);
		/* The page asks for the privacy notice of the code it shows: a
		 * forged code names no brand's notice (404, the page then shows
		 * none). Every other request must succeed. */
		watch(p2, facts, { allow: [404], origin: new URL(base).origin });
		noteFailures(p2, 'phone 2');
		const shot2 = shooter(p2, facts, outdir, 'feedback-');
		await p2.goto(base + forged, { waitUntil: 'load' });
		await p2.waitForSelector('#fk');
		check((await p2.textContent('#verdict')).includes('假冒') &&
		    (await p2.textContent('#fk h2')).includes('举报假货'),
		    'a forged code: 假冒 and the report form (举报假货)');
		check(await fits(p2, '#fk'), 'the report form fits 390 px');
		await p2.click('#fk-send');
		check((await p2.textContent('#fk-status')).includes('请填写购买地点'),
		    'no place: refused in Chinese, nothing sent');
		await p2.fill('#fk-where', '人民路 18 号小卖部');
		await p2.fill('#fk-text', '瓶盖松动，标签模糊。');
		await p2.setInputFiles('#fk-photo', photo);
		await p2.locator('#fk').scrollIntoViewIfNeeded();
		await shot2('landing-fake');
		await p2.click('#fk-send');
		await p2.waitForFunction(() => document.querySelector(
		    '#fk-status').textContent.includes('举报已提交'), null,
		    { timeout: 20000 });
		check(true, 'the report with its photo was sent');
		await shot2('landing-fake-sent');

		/* ---- the brand's inbox ---- */
		const page = await zhPage(browser);
		const vendor = await fetch(base + '/admin/vendor/echarts.js');
		watch(page, facts, { allow: [401], vendor: vendor.status });
		noteFailures(page, 'dashboard');
		const shot = shooter(page, facts, outdir, 'feedback-');
		const { get, goto, login } = dashboard(page, base);
		await login(admin);
		await goto('#/feedback', '#feedback-list table');
		const list = (await get('/api/v1/feedback')).feedback;
		const rating = list.find((f) => f.kind === 'rating');
		const fake = list.find((f) => f.kind === 'fake');
		check(list.length === 2 && rating && rating.rating === 4 &&
		    rating.text === '茶香很浓，包装完好。' && fake &&
		    fake.where === '人民路 18 号小卖部' && fake.photo,
		    'both reached the inbox as sent');
		const rows = await page.$$eval('#feedback-list tbody tr',
		    (trs) => trs.map((tr) => tr.textContent));
		check(rows.length === 2 && rows.some((r) => r.includes('假货举报') &&
		    r.includes('人民路 18 号小卖部')) && rows.some((r) =>
		    r.includes('茶香很浓')), 'the inbox shows the rating and the report');
		await page.waitForFunction((id) => {
			const i = document.getElementById('fb-photo-' + id);
			return i && i.complete && i.naturalWidth > 0;
		}, fake.id, { timeout: 10000 });
		check(true, 'the report\'s photo is shown');
		await page.waitForSelector('#fb-sat');
		const sat = await page.textContent('#fb-sat');
		/* One 4: no promoter, no detractor. */
		check(sat.includes('4.00') && sat.includes('0.0'),
		    `satisfaction: average 4.00, NPS-style 0.0 (${sat})`);
		check(!(await page.$('#fb-chart')) || vendor.status !== 200 ||
		    !!(await page.$('#fb-chart svg')), 'the chart is drawn');
		await shot('inbox');

		await page.click(`#fb-reply-${rating.id}`);
		await page.waitForSelector('#fb-reply-text');
		await page.fill('#fb-reply-text', '感谢您的评价，欢迎再次选购！');
		await shot('reply');
		await page.click('#modal-ok');
		await page.waitForFunction(() => document.querySelector(
		    '#feedback-list') && document.querySelector('#feedback-list')
		    .textContent.includes('已回复'), null, { timeout: 10000 });
		const after = (await get('/api/v1/feedback/' + rating.id));
		check(after.status === 'replied' &&
		    after.reply === '感谢您的评价，欢迎再次选购！',
		    'the reply is stored: 已回复');
		await page.click(`#fb-close-${fake.id}`);
		await page.click('#modal-ok');
		await page.waitForFunction(() => document.querySelector(
		    '#feedback-list').textContent.includes('已关闭'), null,
		    { timeout: 10000 });
		check((await get('/api/v1/feedback/' + fake.id)).status === 'closed',
		    'the report is closed: 已关闭');
		check(!(await page.$(`#fb-reply-${fake.id}`)),
		    'a closed entry offers no reply');
		await shot('inbox-done');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('feedback.js', main);
