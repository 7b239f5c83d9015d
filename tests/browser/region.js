#!/usr/bin/env node
/*
 * region.js - the region of scans on the dashboard (issue 20 item 6) in
 * Debian's headless Chromium: the geography page's China map shades the
 * provinces of scans placed by their network address (GD 4, ZJ 2), adds
 * a located scan by its place (Chengdu), says in a note that an address
 * is a low-confidence guess; the provinces table counts both and says
 * how many came from the address; the world view shades China and the
 * United States; the alerts page names the provinces of a clone's scans,
 * and its code lookup each scan's region.
 * The data is made by tests/server/region_browser.py.
 *
 *   node tests/browser/region.js BASE_URL EMAIL OUTDIR LOCALE TIMEZONE
 *
 * The password is SIGIL_TEST_PASSWORD. Prints one line per check, then
 * one line of JSON {"failures", "console_errors", "shots"}.
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch } =
    require('./lib');

function mapState() {
	const box = document.querySelector('#region-map .map-box');
	const c = window.echarts.getInstanceByDom(box);
	const o = c.getOption();
	const map = o.series.find((s) => s.type === 'map');
	const note = document.getElementById('map-ip-note');
	return {
		view: o.geo[0].map,
		shading: Object.fromEntries(map.data.map((d) => [d.name, d.value])),
		visualMap: o.visualMap.length ? o.visualMap[0].max : null,
		note: note ? note.textContent : null,
	};
}

async function main(argv) {
	if (argv.length !== 5) {
		process.stderr.write('usage: node region.js BASE EMAIL OUTDIR ' +
		    'LOCALE TZ\n');
		process.exit(2);
	}
	const [base, email, outdir, locale, tz] = argv;
	const zh = locale.startsWith('zh');
	const facts = { console_errors: [], shots: [] };
	const browser = await launch();
	try {
		const context = await browser.newContext({
			viewport: { width: 1440, height: 900 }, locale,
			timezoneId: tz });
		const page = await context.newPage();
		watch(page, facts);
		const shot = shooter(page, facts, outdir, `region-${locale}-`,
		    { wait: 200 });
		const { login, goto } = dashboard(page, base,
		    '#nav a[data-group=trace]');
		await login(email);
		await goto('#/geo', '#region-map .map-box svg path');
		await page.waitForTimeout(300);
		let s = await page.evaluate(mapState);
		check(s.view === 'china' && s.shading['广东'] === 4 &&
		    s.shading['浙江'] === 2 && s.shading['四川'] === 1,
		    `the China map shades Guangdong 4 and Zhejiang 2 by the ` +
		    `scans' addresses, Sichuan 1 by a shared place: ` +
		    JSON.stringify(s.shading));
		check(s.visualMap === 4, `the legend goes up to 4 (${s.visualMap})`);
		check(s.note && (zh ? /IP/.test(s.note) && /可信度低/.test(s.note) :
		    /low-confidence/.test(s.note)), `the note says an address is ` +
		    `a low-confidence guess: ${s.note}`);
		const rows = await page.$$eval('#geo-areas tbody tr',
		    (l) => l.map((r) => Array.from(r.cells, (c) => c.textContent)));
		const gd = rows.find((r) => r[0] === (zh ? '广东' : 'Guangdong'));
		check(gd && gd[1] === '4' && gd[gd.length - 1] === '4',
		    `the provinces table: Guangdong 4, all 4 by IP ` +
		    `(${JSON.stringify(rows)})`);
		const sc = rows.find((r) => r[0] === (zh ? '四川' : 'Sichuan'));
		check(sc && sc[1] === '1' && sc[sc.length - 1] === '0',
		    `Sichuan 1, by its shared place (${JSON.stringify(sc)})`);
		await shot('china');

		await page.click('[data-page=map-world]');
		await page.waitForTimeout(500);
		s = await page.evaluate(mapState);
		check(s.view === 'world' && s.shading['中国'] >= 7 &&
		    s.shading['美国'] === 1, `the world view: China and the ` +
		    `United States shaded (${JSON.stringify(s.shading)})`);
		await shot('world');

		await goto('#/alerts', '#main table tbody tr');
		const text = await page.textContent('#main table tbody');
		check(zh ? /广东省/.test(text) && /加利福尼亚州/.test(text) :
		    /Guangdong/.test(text) && /California/.test(text),
		    `the alerts name the provinces of the clone's scans: ` +
		    text.replace(/\s+/g, ' ').slice(0, 300));
		await shot('alerts');

		/* The alert's trace link: the code's scans with their regions. */
		await page.click('#main .trace-link');
		await page.waitForSelector('#code-facts', { timeout: 10000 });
		await page.waitForFunction(() => /IP/.test(
		    document.getElementById('main').textContent), null,
		    { timeout: 10000 });
		const trace = await page.textContent('#main');
		check(zh ? /广东省 深圳 \(据 IP 推断\)/.test(trace) :
		    /Guangdong Shenzhen \(by IP\)/.test(trace),
		    `the code lookup names each scan's region, by IP: ` +
		    (trace.match(/[^·]*\((据 IP 推断|by IP)\)/) || [''])[0]);
		await shot('lookup');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('region.js', main);
