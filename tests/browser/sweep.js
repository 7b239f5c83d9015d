#!/usr/bin/env node
/*
 * sweep.js - every page of the dashboard, reached the way a person
 * reaches it (the group in the nav, then the page in the group's row),
 * in one locale, time zone and window size (issue 19 "Must show"): each
 * page draws without an error notice, a console error or a page error,
 * fits the window's width (nothing wider than the viewport), and is kept
 * as a screenshot; a zh-CN page never shows the server's English
 * (lib.js watches every answer).
 *
 *   node tests/browser/sweep.js BASE_URL EMAIL OUTDIR TIMEZONE LOCALE \
 *       WIDTHxHEIGHT PAGE...
 *
 * PAGE... are the pages the nav must offer this user (all of them must
 * be there, and no other). The password comes from SIGIL_TEST_PASSWORD.
 * Prints one line per check, then one line of JSON:
 *   {"failures": n, "pages": [...], "shots": [...]}
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch } =
    require('./lib');

async function main(argv) {
	if (argv.length < 7) {
		process.stderr.write('usage: node sweep.js BASE EMAIL OUTDIR TZ ' +
		    'LOCALE WxH PAGE...\n');
		process.exit(2);
	}
	const [base, email, outdir, tz, locale, size, ...want] = argv;
	const [width, height] = size.split('x').map(Number);
	const tag = `${email.split("@")[0]}-${locale}-${width}`;
	const facts = { pages: [], shots: [] };
	const browser = await launch();
	try {
		const context = await browser.newContext({ locale, timezoneId: tz,
		    viewport: { width, height } });
		const page = await context.newPage();
		/* Every console error, page error and dialog counts. */
		const noted = { console_errors: [] };
		const errors = noted.dialogs = noted.console_errors;
		watch(page, noted, { allow: [] });
		const shot = shooter(page, facts, outdir, `sweep-${tag}-`);
		await dashboard(page, base, 'nav#nav a[data-group]').login(email);

		/* Every group, then every page of it, by clicking. */
		const groups = await page.$$eval('nav#nav a[data-group]',
		    (as) => as.map((a) => a.dataset.group));
		for (const g of groups) {
			await page.click(`nav#nav a[data-group=${g}]`);
			await page.waitForTimeout(100);
			let pages = await page.$$eval('nav#subnav:not([hidden]) ' +
			    'a[data-page]', (as) => as.map((a) => a.dataset.page));
			if (!pages.length)
				pages = [await page.evaluate(() => location.hash
				    .replace(/^#\/?/, '').split('?')[0])];
			for (const p of pages) {
				const before = errors.length;
				if (await page.$(`nav#subnav:not([hidden]) a[data-page=${p}]`))
					await page.click(`nav#subnav a[data-page=${p}]`);
				await page.waitForFunction(() => {
					const m = document.getElementById('main');
					return m && m.querySelector('h1') &&
					    !/加载中|Loading…/.test(m.innerText);
				}, null, { timeout: 15000 }).catch(() => {});
				await page.waitForTimeout(400);
				facts.pages.push(p);
				const bad = await page.$$eval('#main .notice.error',
				    (ns) => ns.filter((n) => n.offsetParent !== null)
				    .map((n) => n.innerText.trim()));
				check(bad.length === 0, `${tag} ${p}: no error notice ` +
				    `(${bad.join(' | ').slice(0, 200)})`);
				const wide = await page.evaluate(() =>
				    document.scrollingElement.scrollWidth - innerWidth);
				check(wide <= 0, `${tag} ${p}: fits ${width} px ` +
				    `(${wide} px too wide)`);
				check(errors.length === before, `${tag} ${p}: no console ` +
				    `or page error (${errors.slice(before).join(' | ')
				    .slice(0, 300)})`);
				await shot(p);
			}
		}
		const seen = new Set(facts.pages);
		const missing = want.filter((p) => !seen.has(p));
		const extra = [...seen].filter((p) => !want.includes(p));
		check(!missing.length && !extra.length, `${tag}: the nav offers ` +
		    `every page (${want.length}) (missing ${missing}, extra ${extra})`);
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('sweep.js', main);
