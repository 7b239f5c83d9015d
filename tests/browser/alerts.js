#!/usr/bin/env node
/*
 * alerts.js - the dashboard's campaigns and alerts pages (issue 19 items
 * 3 and 4) in Debian's headless Chromium, in Shanghai time and zh-CN
 * (and once in English), as a brand team uses them:
 *
 *   campaigns: the form's dates are today in China; a typo'd SKU is
 *   refused with the field marked and a Chinese message; a full campaign
 *   (roles, draw, territory, points expiry) is saved; a second one on the
 *   same product shows "被 #1 覆盖"; a PIN campaign where no PIN file
 *   was made is refused, and the form says where PINs come from;
 *
 *   alerts: newest first, 50 a page and "更早的告警" for the rest, times
 *   in Shanghai time; acknowledge (who and when shown); clear one code's
 *   false flag (a reason required, asked in the page); revoke one code
 *   alone; revoke one alert's batch; the status filter; the trace link;
 *
 *   an analyst is offered no change on either page.
 *
 *   node tests/browser/alerts.js BASE_URL ADMIN_EMAIL ANALYST_EMAIL OUTDIR
 *
 * The password is SIGIL_TEST_PASSWORD. Prints one line per check
 * ("ok ..."/"FAIL ..."), then one line of JSON {"failures", "dialogs",
 * "console_errors", "shots"}.
 */
'use strict';

const { check, dashboard, finish, launch, run, shanghai, shanghaiDate,
    shooter, watch, zhPage } = require('./lib');

async function main(argv) {
	if (argv.length !== 4) {
		process.stderr.write('usage: node alerts.js BASE ADMIN ANALYST ' +
		    'OUTDIR\n');
		process.exit(2);
	}
	const [base, admin, analyst, outdir] = argv;
	const facts = { dialogs: [], console_errors: [], shots: [] };
	const browser = await launch();
	try {
		const page = await zhPage(browser);
		watch(page, facts, { allow: [401, 422] });
		const shot = shooter(page, facts, outdir);
		const { get, goto, login } = dashboard(page, base);
		const rows = () => page.$$eval('#main table tbody tr',
		    (trs) => trs.map((tr) => tr.textContent));
		const rowButton = async (rowText, label) => {
			const row = page.locator('#main table tbody tr', {
			    hasText: rowText }).first();
			await row.getByRole('button', { name: label }).click();
		};

		await login(admin);

		/* ---- campaigns ---- */
		await goto('#/campaigns', '#new-campaign');
		await page.click('#new-campaign');
		await page.waitForSelector('#campaign-form');
		const starts = await page.inputValue('#campaign-form input[name=starts]');
		check(starts === shanghaiDate(new Date()),
		    `the form starts today in China (${starts})`);
		check(/sigil mint/.test(await page.textContent('#pin-note')),
		    'the form says where hidden PINs come from');
		await page.fill('#campaign-form input[name=name]', '双十二 会员回馈');
		await page.fill('#campaign-form input[name=skus]', 'NOPE-1');
		await page.click('#campaign-form button[type=submit]');
		await page.waitForSelector('#campaign-form [aria-invalid=true]');
		const err = await page.textContent('#campaign-form .field-error');
		check(await page.getAttribute('#campaign-form input[name=skus]',
		    'aria-invalid') === 'true' && /NOPE-1/.test(err) &&
		    /不存在/.test(err), 'a typo\'d SKU: the field marked, in ' +
		    'Chinese: ' + err);
		await shot('campaigns-unknown-sku');
		check((await get('/api/v1/campaigns')).campaigns.length === 0,
		    'nothing was saved');
		await page.fill('#campaign-form input[name=skus]', 'WINE');
		await page.fill('#campaign-form input[name=points]', '20');
		await page.fill('#campaign-form input[name=retailer]', '5');
		await page.fill('#campaign-form input[name=expiry_days]', '365');
		await page.selectOption('#campaign-form select[name=territory]',
		    { index: 1 });
		await page.click('#add-prize');
		await page.fill('#campaign-form input[name=prize_name]', '开瓶器');
		await page.fill('#campaign-form input[name=prize_odds]', '5');
		await page.fill('#campaign-form input[name=prize_stock]', '10');
		await page.click('#campaign-form button[type=submit]');
		await page.waitForFunction(() => !document.querySelector(
		    '#campaign-form') && document.querySelector('#main table'),
		    null, { timeout: 10000 });
		let list = (await get('/api/v1/campaigns')).campaigns;
		const cfg = list.length === 1 ? list[0].config : {};
		check(cfg.roles && cfg.roles.consumer === 20 &&
		    cfg.roles.retailer === 5 && cfg.expiry_days === 365 &&
		    cfg.territory >= 1 && cfg.draw && cfg.draw[0].name === '开瓶器' &&
		    Math.abs(cfg.draw[0].odds - 0.05) < 1e-9 &&
		    cfg.draw[0].stock === 10,
		    'the full form is saved: roles, expiry, territory, draw (' +
		    JSON.stringify(cfg) + ')');
		check(new Date(cfg.starts).toISOString() ===
		    new Date(starts + 'T00:00:00+08:00').toISOString(),
		    'it starts at midnight in China (' + cfg.starts + ')');
		await page.click('#new-campaign');
		await page.fill('#campaign-form input[name=name]', '第二个');
		await page.fill('#campaign-form input[name=skus]', 'WINE');
		/* In the first one's territory: all its claims go to the first. */
		await page.selectOption('#campaign-form select[name=territory]',
		    { index: 1 });
		await page.click('#campaign-form button[type=submit]');
		await page.waitForFunction(() => /被 #\d+ 覆盖/.test(
		    (document.querySelector('#main table') || {}).textContent || ''),
		    null, { timeout: 10000 });
		list = (await get('/api/v1/campaigns')).campaigns;
		check(list.length === 2 && list[1].overridden_by === list[0].id,
		    `a second campaign on WINE shows "被 #${list[0].id} 覆盖"`);
		await shot('campaigns-overridden');
		await page.click('#new-campaign');
		await page.fill('#campaign-form input[name=name]', 'PIN');
		await page.fill('#campaign-form input[name=skus]', 'WINE');
		await page.check('#campaign-form input[name=require_pin]');
		await page.click('#campaign-form button[type=submit]');
		await page.waitForSelector('#campaign-form [aria-invalid=true]');
		check(await page.getAttribute(
		    '#campaign-form input[name=require_pin]', 'aria-invalid') ===
		    'true' && /sigil mint --pin/.test(await page.textContent(
		    '#campaign-form .field-error')),
		    'a PIN campaign without PIN files: refused, the PIN box marked');
		await page.fill('#campaign-form input[name=skus]', 'TEA');
		await page.click('#campaign-form button[type=submit]');
		await page.waitForFunction(() => !document.querySelector(
		    '#campaign-form'), null, { timeout: 10000 });
		list = (await get('/api/v1/campaigns')).campaigns;
		check(list.length === 3 && list[2].config.require_pin === true,
		    'on TEA, whose PIN file was made, it is saved');
		await shot('campaigns');

		/* ---- alerts ---- */
		await goto('#/alerts', '#main table tbody tr');
		const newest = (await get('/api/v1/alerts?limit=1')).alerts[0];
		let r = await rows();
		check(r.length === 50 && !!(await page.$('#alerts-more')),
		    `50 alerts a page, and "更早的告警" (${r.length})`);
		check(r[0].includes('#' + newest.serial) &&
		    r[0].includes(shanghai(newest.last_seen)),
		    `newest first, in Shanghai time (${shanghai(newest.last_seen)})`);
		check(r[0].includes('Product WINE') && r[0].includes('L-WINE'),
		    'the product and lot by name');
		await shot('alerts-inbox');
		await page.click('#alerts-more');
		await page.waitForFunction(() => document.querySelectorAll(
		    '#main table tbody tr').length > 50, null, { timeout: 10000 });
		r = await rows();
		const total = (await get('/api/v1/alerts?limit=1000')).alerts.length;
		check(r.length === total && !(await page.$('#alerts-more')),
		    `the older ones follow (${r.length} of ${total})`);

		/* Acknowledge the newest. */
		await rowButton('#' + newest.serial + ' ', '确认处理');
		await page.waitForFunction((s) => {
			const tr = [...document.querySelectorAll('#main table tbody tr')]
			    .find((x) => x.textContent.includes(s));
			return tr && tr.textContent.includes('处理中');
		}, '#' + newest.serial + ' ', { timeout: 10000 });
		let a = await get('/api/v1/alerts/' + newest.id);
		r = await rows();
		check(a.status === 'acknowledged' && a.status_by.user >= 1 &&
		    r[0].includes('用户 #' + a.status_by.user) &&
		    r[0].includes(shanghai(a.status_at)),
		    'acknowledged: who and when shown (' + JSON.stringify(
		    a.status_by) + ')');

		/* Clear one code's false flag: a reason is required. */
		const second = (await get('/api/v1/alerts?limit=2')).alerts[1];
		await rowButton('#' + second.serial + ' ', '误报');
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-ok');
		await page.waitForSelector('#toast:not([hidden])');
		a = await get('/api/v1/alerts/' + second.id);
		check(a.status === 'new', 'without a reason nothing happens');
		await rowButton('#' + second.serial + ' ', '误报');
		await page.waitForSelector('#modal:not([hidden])');
		await page.fill('#reason-input', '门店员工扫码');
		await shot('alerts-clear-confirm');
		await page.click('#modal-ok');
		await page.waitForFunction((s) => ![...document.querySelectorAll(
		    '#main table tbody tr')].some((x) => x.textContent.includes(s)),
		    '#' + second.serial + ' ', { timeout: 10000 });
		a = await get('/api/v1/alerts/' + second.id);
		const code = await get('/api/v1/codes/' + a.url.split('/').pop());
		check(a.status === 'resolved' && code.suspicious === false &&
		    code.notes[0].reason === '门店员工扫码',
		    'cleared: resolved, the code genuine again, the reason kept');

		/* Revoke one code alone. */
		const third = (await get('/api/v1/alerts?limit=3')).alerts[2];
		await rowButton('#' + third.serial + ' ', '作废此码');
		await page.waitForSelector('#modal:not([hidden])');
		check((await page.textContent('#modal-body')).includes(
		    '#' + third.serial), 'the confirmation names the code');
		await page.fill('#reason-input', '标签被复制');
		await page.click('#modal-ok');
		await page.waitForFunction((s) => ![...document.querySelectorAll(
		    '#main table tbody tr')].some((x) => x.textContent.includes(s)),
		    '#' + third.serial + ' ', { timeout: 10000 });
		const gone = await get('/api/v1/codes/' + third.url.split('/').pop());
		const kept = await get('/api/v1/batches/' + third.batch.id);
		check(gone.revoked && gone.revoked.reason === '标签被复制' &&
		    kept.state === 'active', 'the code alone is revoked, its batch ' +
		    'stays active');

		/* Revoke one alert's batch (TEA's). */
		const tea = (await get('/api/v1/alerts?limit=1000')).alerts.find(
		    (x) => x.product.sku === 'TEA');
		await rowButton('Product TEA', '作废整批');
		await page.waitForSelector('#modal:not([hidden])');
		check(/L-TEA/.test(await page.textContent('#modal-body')),
		    'the confirmation names the lot');
		await page.fill('#reason-input', '整批被盗');
		await page.click('#modal-ok');
		await page.waitForSelector('#toast:not([hidden])');
		await page.waitForFunction(() => ![...document.querySelectorAll(
		    '#main table tbody tr')].some((x) =>
		    x.textContent.includes('Product TEA')), null, { timeout: 10000 });
		const batch = await get('/api/v1/batches/' + tea.batch.id);
		check(batch.state === 'revoked' &&
		    (await get('/api/v1/alerts/' + tea.id)).status === 'resolved',
		    'the batch is revoked and the alert resolved');

		/* The status filter. */
		await page.selectOption('#alert-status', 'resolved');
		let n = 0;
		for (let i = 0; i < 40 && n !== 3; i++) {
			await page.waitForTimeout(250);
			n = (await rows()).length;
		}
		check(n === 3, `the resolved ones: the cleared and the two revoked (${n})`);
		await shot('alerts-resolved');
		await page.selectOption('#alert-status', 'new,acknowledged');
		await page.waitForSelector('#main .trace-link');

		/* The trace. */
		await page.click('#main .trace-link');
		await page.waitForSelector('#code-facts', { timeout: 10000 });
		check((await page.textContent('#code-facts')).includes('WINE'),
		    'the trace link opens the code lookup');

		/* English, once. */
		await page.click('#lang');
		await goto('#/campaigns', '#main table');
		check(/Overridden by #\d+/.test(await page.textContent('#main table')),
		    'in English: "Overridden by #N"');
		await goto('#/alerts', '#main table tbody tr');
		check(/Acknowledged/.test(await page.textContent('#main table')),
		    'in English: the alert statuses');
		await shot('alerts-en');
		await page.click('#lang');

		/* An analyst: no change offered. */
		await page.click('#logout');
		await page.waitForSelector('#login-form');
		await login(analyst);
		const offered = [];
		for (const [hash, sel] of [['#/alerts', '#main table tbody tr'],
		    ['#/campaigns', '#main table']]) {
			await goto(hash, sel);
			await page.waitForTimeout(300);
			for (const bad of ['#new-campaign', '#revoke-selected',
			    '#main table button', '#main .pick'])
				if (await page.$(bad))
					offered.push(hash + ' ' + bad);
		}
		check(offered.length === 0, 'the analyst is offered no change: ' +
		    JSON.stringify(offered));
		await shot('alerts-analyst');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('alerts.js', main);
