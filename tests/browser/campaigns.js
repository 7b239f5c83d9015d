#!/usr/bin/env node
/*
 * campaigns.js - the dashboard's campaign form with stacking and the
 * earning rules (issue 21 item 2) in Debian's headless Chromium, in
 * zh-CN and Shanghai time (and once in English), as a brand admin uses
 * it:
 *
 *   the form shows the stacking section (priority, exclusive or
 *   stackable, audience from the saved segments) and the earning rules
 *   (first-scan, registration, birthday bonuses, streak, a factor per
 *   tier, seller rebate);
 *   a streak without its points is refused in Chinese at that field and
 *   nothing is saved;
 *   filled in whole, it is saved and listed with its mode, priority and
 *   rules; the server holds what was typed;
 *   editing it shows the same values again;
 *   in English once.
 *
 *   node tests/browser/campaigns.js BASE_URL ADMIN_EMAIL OUTDIR SEGMENT
 *
 * SEGMENT is the id of a saved segment to pick as the audience. The
 * password is SIGIL_TEST_PASSWORD. Prints one line per check, then one
 * line of JSON {"failures", "dialogs", "console_errors", "shots",
 * "campaign"}.
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch,
    zhPage } = require('./lib');

async function main(argv) {
	if (argv.length !== 4) {
		process.stderr.write('usage: node campaigns.js BASE ADMIN OUTDIR ' +
		    'SEGMENT\n');
		process.exit(2);
	}
	const [base, admin, outdir, segArg] = argv;
	const segment = Number(segArg);
	const facts = { dialogs: [], console_errors: [], shots: [],
	    campaign: null };
	const browser = await launch();
	try {
		const page = await zhPage(browser);
		const vendor = await fetch(base + '/admin/vendor/echarts.js');
		watch(page, facts, { allow: [401, 422], vendor: vendor.status });
		const shot = shooter(page, facts, outdir, 'campaigns-');
		const { get, goto, login } = dashboard(page, base);
		const text = (sel) => page.textContent(sel);
		const form = (name) => `#campaign-form [name=${name}]`;

		await login(admin);
		await goto('#/campaigns', '#new-campaign');
		await page.click('#new-campaign');
		await page.waitForSelector('#campaign-form');
		const body = await text('#campaign-form');
		check(body.includes('叠加规则') && body.includes('优先级') &&
		    body.includes('目标人群') && body.includes('额外奖励规则'),
		    'the form has the stacking and earning sections in Chinese');
		check(await page.$eval(form('mode'), (e) => e.value) ===
		    'exclusive', 'a new campaign is exclusive unless set');
		const options = await page.$$eval(`${form('audience')} option`,
		    (os) => os.map((o) => o.value));
		check(options.includes(String(segment)) && options[0] === '',
		    'the audience offers everyone and the saved segment');
		const tiers = await page.$$eval(`${form('tier_multiplier')}`,
		    (is) => is.map((i) => i.dataset.tier));
		check(tiers.includes('金卡 Gold'),
		    `a factor per tier of the brand (${tiers.join(', ')})`);

		await page.fill(form('name'), '中秋节双倍积分');
		await page.fill(form('skus'), 'W1');
		await page.fill(form('points'), '20');
		await page.fill(form('budget'), '50000');
		await page.fill(form('priority'), '10');
		await page.selectOption(form('mode'), 'stackable');
		await page.selectOption(form('audience'), String(segment));
		await page.fill(form('first_scan_bonus'), '30');
		await page.fill(form('registration_bonus'), '50');
		await page.fill(form('birthday_bonus'), '88');
		await page.fill(form('seller_rebate'), '5');
		await page.fill(form('streak_claims'), '3');
		await page.fill(form('streak_days'), '7');
		await page.fill('#campaign-form [data-tier="金卡 Gold"]', '1.5');
		await page.locator('#campaign-form').scrollIntoViewIfNeeded();
		await shot('form');

		await page.click('#campaign-form button[type=submit]');
		await page.waitForSelector('#campaign-form .field-error');
		const err = await text('#campaign-form .field-error');
		check(err.includes('连续领奖奖励') && !/[A-Za-z]{4}/.test(err),
		    `a streak without points: refused in Chinese (${err})`);
		check(await page.$eval(form('streak_claims'), (e) =>
		    e.getAttribute('aria-invalid')) === 'true',
		    'the streak field is marked');
		check(((await get('/api/v1/campaigns')).campaigns || []).length ===
		    0, 'nothing was saved');
		await shot('refused');

		await page.fill(form('streak_points'), '20');
		await page.click('#campaign-form button[type=submit]');
		await page.waitForFunction(() => !document.querySelector(
		    '#campaign-form') && document.querySelector('#main table'),
		    null, { timeout: 10000 });
		const list = (await get('/api/v1/campaigns')).campaigns || [];
		const c = list[0] || { config: {} };
		const cfg = c.config;
		facts.campaign = c.id || null;
		check(list.length === 1 && cfg.mode === 'stackable' &&
		    cfg.priority === 10 && cfg.audience === segment &&
		    cfg.first_scan_bonus === 30 && cfg.registration_bonus === 50 &&
		    cfg.birthday_bonus === 88 && cfg.seller_rebate === 5 &&
		    JSON.stringify(cfg.streak) ===
		    JSON.stringify({ claims: 3, days: 7, points: 20 }) &&
		    cfg.tier_multiplier && cfg.tier_multiplier['金卡 Gold'] === 1.5 &&
		    Object.keys(cfg.tier_multiplier).length === 1,
		    'saved as typed: ' + JSON.stringify(cfg));
		const row = await text('#main table');
		check(row.includes('可叠加 · P10') && row.includes('首扫 +30') &&
		    row.includes('金卡 Gold ×1.5') && row.includes(`人群 #${segment}`),
		    'listed with its mode, priority, audience and rules');
		await shot('list');

		await page.click('#main table button:has-text("编辑")');
		await page.waitForSelector('#campaign-form');
		check(await page.$eval(form('mode'), (e) => e.value) ===
		    'stackable' && await page.$eval(form('priority'), (e) =>
		    e.value) === '10' && await page.$eval(form('audience'), (e) =>
		    e.value) === String(segment) && await page.$eval(
		    '#campaign-form [data-tier="金卡 Gold"]', (e) => e.value) ===
		    '1.5' && await page.$eval(form('streak_points'), (e) =>
		    e.value) === '20', 'editing shows the saved values again');
		await page.selectOption(form('mode'), 'exclusive');
		await page.fill(form('priority'), '3');
		await page.click('#campaign-form button[type=submit]');
		await page.waitForFunction(() => !document.querySelector(
		    '#campaign-form'), null, { timeout: 10000 });
		const after = ((await get('/api/v1/campaigns')).campaigns ||
		    [])[0] || { config: {} };
		check(after.config.mode === 'exclusive' &&
		    after.config.priority === 3 &&
		    after.config.streak.points === 20,
		    'an edit changes the mode and priority, keeps the rest');
		await page.click('#new-campaign');
		await page.waitForSelector('#campaign-form');
		await shot('new-empty');
		await page.click('#campaign-form button:has-text("取消")');

		await page.click('#lang');
		await page.waitForFunction(() => document.querySelector('h1') &&
		    /Campaigns/.test(document.querySelector('h1').textContent),
		    null, { timeout: 10000 });
		await page.waitForSelector('#new-campaign');
		await page.click('#new-campaign');
		await page.waitForSelector('#campaign-form');
		const en = await text('#campaign-form');
		check(en.includes('Stacking') && en.includes('Extra earning rules')
		    && en.includes('Streak bonus'), 'in English: the same form');
		await shot('english');
		await page.click('#lang');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('campaigns.js', main);
