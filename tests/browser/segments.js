#!/usr/bin/env node
/*
 * segments.js - the dashboard's customer segment builder (issue 21 item
 * 1) in Debian's headless Chromium, in zh-CN and Shanghai time (and once
 * in English), as a brand team uses it:
 *
 *   the page opens with every customer counted by the server;
 *   ticking marketing consent, then a gender, changes the live count to
 *   what the server counts for the same criteria;
 *   points out of order are refused in Chinese before any request;
 *   the segment is saved, listed in words, opened again for editing
 *   with its criteria ticked;
 *   in English once;
 *   an analyst counts but sees no save button, a note instead;
 *   the admin deletes the segment after an in-page confirmation.
 *
 *   node tests/browser/segments.js BASE_URL ADMIN_EMAIL ANALYST_EMAIL \
 *       OUTDIR TOTAL MARKETING MARKETING_FEMALE
 *
 * The counts are what the test's server must answer (the Python side
 * made the customers and counted them through the API). The password is
 * SIGIL_TEST_PASSWORD. Prints one line per check, then one line of JSON
 * {"failures", "dialogs", "console_errors", "shots"}.
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch,
    zhPage } = require('./lib');

/* Waits until the live count shows n (the data-count the page set). */
async function countIs(page, n) {
	try {
		await page.waitForFunction((want) => {
			const e = document.querySelector('#sg-count');
			return e && e.dataset.count === String(want) &&
			    !document.querySelector('#sg-count-note').textContent
			    .includes('…');
		}, n, { timeout: 10000 });
		return true;
	} catch (e) {
		return false;
	}
}

async function main(argv) {
	if (argv.length !== 7) {
		process.stderr.write('usage: node segments.js BASE ADMIN ANALYST ' +
		    'OUTDIR TOTAL MARKETING MARKETING_FEMALE\n');
		process.exit(2);
	}
	const [base, admin, analyst, outdir] = argv;
	const [total, marketing, female] = argv.slice(4).map(Number);
	const facts = { dialogs: [], console_errors: [], shots: [] };
	const browser = await launch();
	try {
		const page = await zhPage(browser);
		const vendor = await fetch(base + '/admin/vendor/echarts.js');
		watch(page, facts, { allow: [401], vendor: vendor.status });
		const shot = shooter(page, facts, outdir, 'segments-');
		const { get, goto, login, english, chinese } =
		    dashboard(page, base);
		const text = (sel) => page.textContent(sel);

		await login(admin);
		await goto('#/segments', '#sg-form');
		check((await text('h1')) === '客户分群', 'the page: 客户分群');
		check(await countIs(page, total),
		    `no criteria: every customer counted (${total})`);
		check((await text('#sg-count-note')).includes('全部客户'),
		    'and it says so (全部客户)');
		await shot('everyone');

		await page.check('#sg-consent input[value=marketing]');
		check(await countIs(page, marketing),
		    `marketing consent: the count follows (${marketing})`);
		check((await text('#sg-count-value')).includes('人'),
		    'counted in people (人)');
		await page.check('#sg-gender input[value=female]');
		check(await countIs(page, female),
		    `and female: ${female}`);
		await shot('builder');

		await page.fill('#sg-pmin', '50');
		await page.fill('#sg-pmax', '10');
		await page.waitForSelector('#sg-msg:not([hidden])');
		check((await text('#sg-msg')).includes('下限不能高于上限'),
		    'points out of order: refused in Chinese');
		await shot('refused');
		await page.fill('#sg-pmin', '');
		await page.fill('#sg-pmax', '');
		check(await countIs(page, female), 'cleared: the count is back');
		await page.waitForSelector('#sg-msg', { state: 'hidden' });
		await page.fill('#sg-after', '2099-01-01');
		check(await countIs(page, 0),
		    'nobody has scanned after 2099-01-01');
		await page.fill('#sg-after', '2000-01-01');
		check(await countIs(page, female),
		    'everyone scanned after 2000-01-01 (the scan before the login)');
		await page.fill('#sg-after', '');
		check(await countIs(page, female), 'no date: as before');

		await page.fill('#sg-name', '营销女性会员');
		await page.click('#sg-save');
		await page.waitForSelector('#sg-edit-1', { timeout: 10000 });
		const list = await get('/api/v1/segments');
		check(list.segments.length === 1 && list.segments[0].name ===
		    '营销女性会员' && JSON.stringify(list.segments[0].criteria) ===
		    JSON.stringify({ consent: ['marketing'], gender: ['female'] }),
		    'saved with exactly the criteria ticked');
		const row = await text('#sg-list');
		check(row.includes('营销女性会员') && row.includes('营销') &&
		    row.includes('女'), 'listed with its criteria in words');
		check(((await page.getAttribute('#sg-export-1', 'href')) || '')
		    .includes('lang=zh'), 'an admin may export the members, ' +
		    'in Chinese');
		await shot('saved');

		await page.click('#sg-edit-1');
		await page.waitForSelector('#sg-editing');
		check(await page.isChecked('#sg-consent input[value=marketing]') &&
		    await page.isChecked('#sg-gender input[value=female]') &&
		    !(await page.isChecked('#sg-gender input[value=male]')),
		    'editing: the criteria are ticked again');
		check(await countIs(page, female), 'and counted');
		await shot('edit');

		await english('Segments', '#sg-form');
		check((await text('#sg-count')).includes('Matching customers') &&
		    (await text('#sg-list')).includes('Saved segments'),
		    'in English');
		await shot('english');
		await chinese('#sg-form');

		const page2 = await zhPage(browser);
		watch(page2, facts, { allow: [401], vendor: vendor.status });
		const d2 = dashboard(page2, base);
		await d2.login(analyst);
		await d2.goto('#/segments', '#sg-form');
		check(await page2.isVisible('#sg-read-only') &&
		    !(await page2.$('#sg-save')) && !(await page2.$('#sg-edit-1')),
		    'an analyst: a note, no save, edit or delete');
		await page2.check('#sg-consent input[value=marketing]');
		check(await countIs(page2, marketing), 'an analyst counts');
		await shooter(page2, facts, outdir, 'segments-')('analyst');

		await goto('#/segments', '#sg-delete-1');
		await page.click('#sg-delete-1');
		await page.waitForSelector('#modal:not([hidden])');
		check((await text('#modal-body')).includes('营销女性会员'),
		    'the confirmation names the segment');
		await page.click('#modal-ok');
		await page.waitForFunction(() => document.querySelector('#sg-list')
		    && document.querySelector('#sg-list').textContent
		    .includes('还没有保存的分群'), null, { timeout: 10000 });
		check((await get('/api/v1/segments')).segments.length === 0,
		    'deleted');
		await shot('deleted');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('segments.js', main);
