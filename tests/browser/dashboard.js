#!/usr/bin/env node
/*
 * dashboard.js - the brand dashboard in Debian's headless Chromium, as a
 * brand person uses it: log in, create a campaign, scan a code through
 * the real consumer page, see the scan in the overview, look up the
 * code's trace, visit every page (screenshots), switch language, log out.
 *
 *   node tests/browser/dashboard.js BASE_URL EMAIL PASSWORD CODE_PATH OUTDIR
 *       [ANALYST_EMAIL]
 *
 * With ANALYST_EMAIL (same password) it then signs in as that analyst and
 * checks that no page offers a change.
 *
 * The password comes from the environment variable SIGIL_TEST_PASSWORD
 * when PASSWORD is "-". Prints one line per step ("ok ..."/"FAIL ...")
 * and, last, one line of JSON with the facts the caller checks:
 *   {"failures": n, "dialogs": [...], "console_errors": [...],
 *    "external_requests": [...], "campaigns": "created"|"not_available",
 *    "shots": [...]}
 * Exit status 0 when every step passed, 1 otherwise, 2 on bad usage.
 */
'use strict';

const path = require('path');
const { check, dashboard, finish, launch, run, shooter, watch } =
    require('./lib');

const HOSTILE = '<img src=x onerror=alert(1)>';

async function main(argv) {
	if (argv.length !== 5 && argv.length !== 6) {
		process.stderr.write('usage: node dashboard.js BASE EMAIL PASSWORD ' +
		    'CODE_PATH OUTDIR\n');
		process.exit(2);
	}
	const [base, email, pwArg, codePath, outdir, analyst] = argv;
	const password = pwArg === '-' ? process.env.SIGIL_TEST_PASSWORD : pwArg;
	const origin = new URL(base).origin;
	const code = codePath.replace(/^.*\/[sS]\//, '');
	const facts = { dialogs: [], console_errors: [], external_requests: [],
	    campaigns: null, shots: [] };

	const browser = await launch();
	try {
		const context = await browser.newContext({
			viewport: { width: 1280, height: 860 },
			locale: 'zh-CN',
			// A person's browser: HeadlessChrome would be recorded as a
			// bot (never counted), and the scan must count.
			userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 ' +
			    '(KHTML, like Gecko) Chrome/120.0 Safari/537.36',
		});
		const page = await context.newPage();
		/* 401s are answers the app expects (before login, after
		 * logout); anything else is an error of the page. */
		watch(page, facts, { origin });
		const shot = shooter(page, facts, outdir, 'dashboard-');
		const goto = async (hash, selector) => {
			await page.evaluate((h) => { location.hash = h; }, hash);
			if (selector)
				await page.waitForSelector(selector, { timeout: 10000 });
			await page.waitForFunction(() =>
			    !document.querySelector('#main .empty') ||
			    document.querySelector('#main .empty').textContent
			    .indexOf('…') < 0, null, { timeout: 10000 });
		};

		/* Log in. */
		await page.goto(base + '/admin/', { waitUntil: 'load' });
		await page.waitForSelector('#login-form');
		await shot('login');
		await page.fill('#login-email', email);
		await page.fill('#login-password', 'wrong password!');
		await page.click('#login-form button[type=submit]');
		await page.waitForSelector('.login .notice:not([hidden])');
		check(/错误|Wrong/.test(await page.textContent('.login .notice')),
		    'a wrong password is refused with a message');
		await page.fill('#login-password', password);
		await page.click('#login-form button[type=submit]');
		await page.waitForSelector('#kpi-scans', { timeout: 10000 });
		check(true, 'logged in: the overview shows');
		const cookies = await context.cookies();
		const sg = cookies.find((c) => c.name === 'sg_s');
		check(sg && sg.httpOnly && sg.sameSite === 'Strict',
		    'session cookie sg_s is HttpOnly and SameSite=Strict');
		check(await page.evaluate(() => !document.cookie.includes('sg_s')),
		    'the page script cannot read the session cookie');
		const before = Number((await page.textContent('#kpi-scans .value'))
		    .replace(/[^0-9]/g, ''));
		await shot('overview-before');

		/* Create a campaign. */
		await goto('#/campaigns', '#main h1');
		await page.waitForFunction(() => document.querySelector(
		    '#new-campaign, #main .notice'), null, { timeout: 10000 });
		if (await page.$('#new-campaign')) {
			await page.click('#new-campaign');
			await page.fill('#campaign-form input[name=name]',
			    'Spring 春季 ' + HOSTILE);
			await page.fill('#campaign-form input[name=skus]', 'X1');
			await page.fill('#campaign-form input[name=points]', '25');
			await page.fill('#campaign-form input[name=budget]', '1000');
			await page.click('#campaign-form button[type=submit]');
			await page.waitForFunction(() => !document.querySelector(
			    '#campaign-form') && document.querySelector('#main table'),
			    null, { timeout: 10000 });
			const text = await page.textContent('#main table');
			check(text.includes('Spring 春季 ' + HOSTILE),
			    'the new campaign is listed, its name shown as text');
			facts.campaigns = 'created';
			await shot('campaigns');
			/* Pause it and see the state change. */
			const pause = await page.$('#main table button:nth-of-type(2)');
			if (pause) {
				await pause.click();
				await page.waitForFunction(() => /已暂停|Paused/.test(
				    (document.querySelector('#main table') || {})
				    .textContent || ''),
				    null, { timeout: 10000 });
				check(true, 'the campaign can be paused');
			}
		} else {
			const notice = await page.textContent('#main .notice');
			check(/尚未上线|not available/.test(notice),
			    'campaigns: a clear "not available yet" state');
			facts.campaigns = 'not_available';
			await shot('campaigns');
		}

		/* Scan through the real consumer page, in the same browser. */
		const scan = await context.newPage();
		const resp = await scan.goto(base + codePath, { waitUntil: 'load' });
		check(resp && resp.status() === 200, 'the consumer page answered');
		const verdict = await scan.evaluate(() => {
			const v = document.getElementById('verdict');
			return v ? v.textContent.trim() : null;
		});
		check(verdict === '正品' || verdict === 'Genuine',
		    'the consumer page says genuine: ' + verdict);
		await scan.screenshot({ path: path.join(outdir,
		    'dashboard-consumer-scan.png'), fullPage: true });
		await scan.close();

		/* The scan in the overview, by hour. */
		let after = before;
		for (let i = 0; i < 20 && after <= before; i++) {
			await goto('#/overview?bucket=hour&days=1&n=' + i, '#kpi-scans');
			after = Number((await page.textContent('#kpi-scans .value'))
			    .replace(/[^0-9]/g, ''));
			if (after <= before)
				await page.waitForTimeout(250);
		}
		check(after === before + 1, `the overview counts the scan (${before}` +
		    ` -> ${after})`);
		await shot('overview');
		const top = await page.textContent('#top-products');
		check(top.includes(HOSTILE), 'the hostile product name shows as text ' +
		    'in the top products');
		check(await page.evaluate(() =>
		    document.querySelectorAll('#main img').length === 0),
		    'no <img> element was made from data');
		await page.setViewportSize({ width: 820, height: 1180 });
		await shot('overview-tablet');
		await page.setViewportSize({ width: 1280, height: 860 });

		/* The code's trace. */
		await goto('#/lookup?code=' + encodeURIComponent(code), '#code-facts');
		const facts_text = await page.textContent('#code-facts');
		check(facts_text.includes(HOSTILE), 'code lookup shows the product ' +
		    'name as text');
		const tl = await page.textContent('#timeline');
		check(/扫码|Scan/.test(tl) && /批次激活|Batch activated/.test(tl),
		    'the trace timeline holds the activation and the scan');
		await shot('lookup');

		/*
		 * Clearing a false clone flag (review F9): the caller names a
		 * suspicious code in SIGIL_TEST_CLONE_CODE. A confirmation
		 * without a reason changes nothing; with one, the flag goes
		 * and the note shows in the timeline.
		 */
		const clone = process.env.SIGIL_TEST_CLONE_CODE;
		if (clone) {
			const cc = clone.replace(/^.*\/[sS]\//, '');
			const suspicious = () => page.evaluate(async (c) =>
			    (await (await fetch('/api/v1/codes/' + c)).json())
			    .suspicious, cc);
			await goto('#/lookup?code=' + encodeURIComponent(cc),
			    '#code-facts');
			check(await suspicious() === true &&
			    !!(await page.$('#clear-flag')),
			    'a suspicious code offers "clear the suspicious flag"');
			await page.click('#clear-flag');
			await page.waitForSelector('#modal:not([hidden])');
			await page.click('#modal-ok');
			await page.waitForSelector('#toast:not([hidden])');
			check(await suspicious() === true,
			    'without a reason nothing is cleared');
			await page.click('#clear-flag');
			await page.waitForSelector('#modal:not([hidden])');
			await page.fill('#reason-input', 'shop staff scanned it');
			await shot('lookup-clear-confirm');
			await page.click('#modal-ok');
			await page.waitForFunction(() => {
				const tl = document.getElementById('timeline');
				return tl && tl.textContent.includes(
				    'shop staff scanned it');
			}, null, { timeout: 10000 });
			check(await suspicious() === false &&
			    !(await page.$('#clear-flag')),
			    'cleared: not suspicious, the note in the timeline, ' +
			    'no button any more');
			await shot('lookup-cleared');
		}

		/* Every other page. */
		for (const [name, sel] of [['geo', '#region-map'],
		    ['alerts', '#alert-type'], ['customers', '#phone-search'],
		    ['batches', '#main table']]) {
			await goto('#/' + name, sel);
			await shot(name);
		}
		const batchText = await page.textContent('#main table');
		check(batchText.includes('X1'), 'the batches page lists the batch');

		/* Bulk revoke from the alerts page, confirmed in the page. */
		await goto('#/alerts', '#alert-type');
		/* Its alert was resolved by the clear above: show every status. */
		await page.selectOption('#alert-status', '');
		await page.waitForSelector('#main .pick', { timeout: 10000 });
		const alertText = await page.textContent('#main table');
		check(/扫码人过多|Too many scanners/.test(alertText),
		    'the alerts page lists the clone alert with its type');
		await page.check('#main .pick');
		await page.click('#revoke-selected');
		await page.waitForSelector('#modal:not([hidden])');
		check(/X1/.test(await page.textContent('#modal-body')),
		    'the confirmation names the batch to revoke');
		await shot('alerts-revoke-confirm');
		await page.click('#modal-ok');
		await page.waitForSelector('#toast:not([hidden])');
		const states = await page.evaluate(async () =>
		    (await (await fetch('/api/v1/batches')).json()).batches
		    .map((b) => b.state));
		check(states.includes('revoked'), 'the batch of the alert is ' +
		    'revoked: ' + JSON.stringify(states));

		/* English. */
		await page.click('#lang');
		await goto('#/overview', '#kpi-scans');
		check((await page.textContent('nav#nav')).includes('Overview'),
		    'the language switch turns the pages English');
		await shot('overview-en');
		await page.click('#lang');

		/* Log out. */
		await page.click('#logout');
		await page.waitForSelector('#login-form');
		const status = await page.evaluate(async () =>
		    (await fetch('/admin/me')).status);
		check(status === 401, 'after logout the session is gone (401)');
		const apiStatus = await page.evaluate(async () =>
		    (await fetch('/api/v1/batches')).status);
		check(apiStatus === 401, 'after logout the API refuses (401)');

		/* An analyst sees every page but no button that changes. */
		if (analyst) {
			await dashboard(page, base).login(analyst, password);
			const offered = [];
			for (const [name, sel] of [['campaigns', '#main h1'],
			    ['alerts', '#alert-type'], ['customers', '#phone-search'],
			    ['batches', '#main table']]) {
				await goto('#/' + name, sel);
				await page.waitForTimeout(300);
				for (const bad of ['#new-campaign', '#batch-form',
				    '#revoke-selected', '#main table button',
				    '#main a.button'])
					if (await page.$(bad))
						offered.push(name + ' ' + bad);
			}
			await shot('batches-analyst');
			check(offered.length === 0, 'the analyst is offered no change: ' +
			    JSON.stringify(offered));
			await page.click('#logout');
			await page.waitForSelector('#login-form');
		}
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('dashboard.js', main);
