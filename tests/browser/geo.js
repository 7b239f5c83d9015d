#!/usr/bin/env node
/*
 * geo.js - the geography page (issue 19 item 6) in Debian's headless
 * Chromium: the China map with province outlines (ECharts, SVG), the
 * provinces shaded by scans with a legend, scan points by kind with the
 * counterfeit one in Guangzhou's cell, the distributor's territory, the
 * world view, the provinces table, the full width at 1440 and 1024 px.
 * The data is made by tests/server/geo_browser.py.
 *
 *   node tests/browser/geo.js BASE_URL EMAIL OUTDIR LOCALE TIMEZONE
 *
 * The password is SIGIL_TEST_PASSWORD. Prints one line per check, then
 * one line of JSON {"failures", "console_errors", "shots"}.
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch } =
    require('./lib');

/* What the chart was given, read back from ECharts. */
function mapState() {
	const box = document.querySelector('#region-map .map-box');
	const c = window.echarts.getInstanceByDom(box);
	const o = c.getOption();
	const byName = {};
	for (const s of o.series)
		byName[s.type + ':' + s.name] = s.data;
	const map = o.series.find((s) => s.type === 'map');
	return {
		view: o.geo[0].map, paths: box.querySelectorAll('path').length,
		provinces: window.sigilMap.provinces(),
		shading: Object.fromEntries(map.data.map((d) => [d.name, d.value])),
		visualMap: o.visualMap.length ? o.visualMap[0].max : null,
		scatter: Object.fromEntries(o.series.filter((s) =>
		    s.type === 'scatter').map((s) => [s.name,
		    s.data.map((d) => d.value)])),
		custom: o.series.filter((s) => s.type === 'custom')
		    .map((s) => [s.name, s.data.length]),
		legend: o.legend[0].data,
		width: box.getBoundingClientRect().width,
		main: document.getElementById('main').getBoundingClientRect().width,
	};
}

async function main(argv) {
	if (argv.length !== 5) {
		process.stderr.write('usage: node geo.js BASE EMAIL OUTDIR LOCALE TZ\n');
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
		const shot = shooter(page, facts, outdir, `geo-${locale}-`,
		    { wait: 200 });
		const { login } = dashboard(page, base, '#nav a[data-group=trace]');
		await login(email);
		await page.click('#nav a[data-group=trace]');
		await page.click('#subnav a[data-page=geo]');
		await page.waitForSelector('#region-map .map-box svg path',
		    { timeout: 15000 });
		await page.waitForTimeout(300);
		let s = await page.evaluate(mapState);

		const P = s.provinces;
		check(P.length === 34 && ['台湾', '香港', '澳门', '海南', '西藏',
		    '新疆'].every((n) => P.includes(n)), `34 provinces on the ` +
		    `China map, Taiwan, Hong Kong and Macao among them (${P.length})`);
		check(s.view === 'china' && s.paths >= 34, `the China map draws ` +
		    `the province outlines (${s.paths} SVG paths)`);
		check(s.shading['上海'] === 3 && s.shading['陕西'] === 2 &&
		    s.shading['四川'] === 1 && s.visualMap === 3,
		    `provinces shaded by scans with a legend up to 3: ` +
		    JSON.stringify(s.shading));
		const red = s.scatter[zh ? '假冒扫码' : 'Counterfeit scans'] || [];
		check(red.length === 1 && red[0][0] === 113.5 && red[0][1] === 23.5,
		    `the counterfeit scan is a point in Guangzhou's cell ` +
		    `(${JSON.stringify(red)})`);
		const green = s.scatter[zh ? '正品扫码' : 'Genuine scans'] || [];
		check(green.length === 4 && green.reduce((a, v) => a + v[2], 0) === 7,
		    `genuine scans as points in 4 cells (${JSON.stringify(green)})`);
		const terr = s.custom.find((c) => /经销区域|Territory/.test(c[0]));
		check(terr && terr[1] === 1, `the distributor's territory drawn ` +
		    `(${JSON.stringify(s.custom)})`);
		check(s.legend.length >= 2 && s.legend.some((n) =>
		    /假冒|Counterfeit/.test(n)), `a legend of the points and the ` +
		    `territory (${s.legend.join(', ')})`);
		check(s.width >= 0.9 * s.main - 80 && s.width > 1100,
		    `the map takes the page's width at 1440 px (${s.width}/${s.main})`);
		const rows = await page.$$eval('#geo-areas tbody tr',
		    (l) => l.map((r) => r.textContent));
		check(rows.length === 5 && rows[0].includes(zh ? '上海' : 'Shanghai') &&
		    rows[0].includes('3') && rows.some((r) => r.includes(zh ?
		    '广东' : 'Guangdong')), `the provinces table, Shanghai first ` +
		    `(${rows.join(' | ')})`);
		await shot('china');

		await page.click('[data-page=map-world]');
		await page.waitForTimeout(500);
		s = await page.evaluate(mapState);
		check(s.view === 'world' && s.paths > 150 && s.shading['法国'] === 1 &&
		    s.shading['中国'] === 6, `the world view: countries shaded ` +
		    `(France 1, China 6: ${JSON.stringify(s.shading)})`);
		await shot('world');

		await page.setViewportSize({ width: 1024, height: 768 });
		await page.evaluate(() => { location.hash = '#/geo?days=30'; });
		await page.waitForFunction(() => document.querySelector(
		    '#geo-range') && document.querySelector('#geo-range').value ===
		    '30' && document.querySelector('#region-map .map-box svg path'),
		    null, { timeout: 15000 });
		await page.waitForTimeout(400);
		s = await page.evaluate(mapState);
		check(s.view === 'china' && s.width >= s.main - 120,
		    `1024 px: the map fills the width (${s.width}/${s.main})`);
		const over = await page.evaluate(() =>
		    document.documentElement.scrollWidth > window.innerWidth);
		check(!over, '1024 px: nothing wider than the window');
		await shot('china-1024');
		await page.setViewportSize({ width: 1440, height: 900 });
		const alertsCard = await page.textContent('#geo-alerts');
		check(/窜货告警|diversion alerts/i.test(alertsCard),
		    'the newest diversion alerts beside the table');
		await shot('alerts');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('geo.js', main);
