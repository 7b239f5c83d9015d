#!/usr/bin/env node
/*
 * overview.js - the dashboard's overview in headless Chromium in a given
 * time zone (issue 19 item 1): the hourly view shows the last hour's
 * scans, the daily view the same, the counterfeit KPI counts the fakes
 * of the brand's key, and the map marks where one was scanned.
 *
 *   node tests/browser/overview.js BASE_URL EMAIL OUTDIR TIMEZONE LOCALE \
 *       SCANS COUNTERFEIT
 *
 * The password comes from SIGIL_TEST_PASSWORD. SCANS and COUNTERFEIT are
 * the totals in the last hour, counting the one this script makes when
 * SIGIL_TEST_FAKE_PATH names a forged code: a consumer (a phone in Xi'an)
 * opens it, sees the counterfeit page and taps its share-location button.
 * SIGIL_TEST_PREV "S,C": the scans and counterfeits of the daily view's
 * previous 7 days (none in the hourly view's previous 24 hours); each
 * KPI card's change against them is checked, and the alert counts them
 * too. Prints one line per step
 * ("ok ..."/"FAIL ...") and, last, one line of JSON:
 *   {"failures": n, "console_errors": [...], "queries": [...],
 *    "shots": [...]}
 * Exit status 0 when every step passed, 1 otherwise, 2 on bad usage.
 */
'use strict';

const path = require('path');
const { check, launch, tally } = require('./lib');


const num = (s) => Number(String(s).replace(/[^0-9]/g, ''));

async function main(argv) {
	if (argv.length !== 7) {
		process.stderr.write('usage: node overview.js BASE EMAIL OUTDIR ' +
		    'TIMEZONE LOCALE SCANS COUNTERFEIT\n');
		process.exit(2);
	}
	const [base, email, outdir, tz, locale, scansArg, fakesArg] = argv;
	const scans = Number(scansArg), fakes = Number(fakesArg);
	const [prevScans, prevFakes] = (process.env.SIGIL_TEST_PREV || '0,0')
	    .split(',').map(Number);
	/* As the page words a change: whole percent from 10 %. */
	const pctText = (cur, prev) => {
		const pct = (cur - prev) / prev * 100, abs = Math.abs(pct);
		const n = abs < 10 ? abs.toFixed(1).replace(/\.0$/, '') :
		    String(Math.round(abs));
		return n === '0' ? '±0%' : (pct > 0 ? '▲ +' : '▼ −') + n + '%';
	};
	const deltaOf = (page, key) => page.$eval(`#kpi-${key}-delta`, (e) =>
	    ({ chg: e.querySelector('.chg').textContent,
	      prev: e.querySelector('.prev').textContent,
	      cls: e.className, title: e.title }));
	const password = process.env.SIGIL_TEST_PASSWORD;
	const tag = tz.replace(/\W+/g, '-') + '-' + locale;
	const facts = { console_errors: [], queries: [], shots: [] };
	const browser = await launch();
	try {
		const context = await browser.newContext({
			viewport: { width: 1440, height: 900 },
			locale, timezoneId: tz,
		});
		const page = await context.newPage();
		page.on('console', (m) => {
			if (m.type() === 'error' && !/status of 401/.test(m.text()))
				facts.console_errors.push(m.text());
		});
		page.on('pageerror', (e) => facts.console_errors.push(String(e)));
		const answers = [];
		page.on('response', async (r) => {
			if (!r.url().includes('/api/v1/stats/overview'))
				return;
			facts.queries.push(new URL(r.url()).search);
			try {
				answers.push(await r.json());
			} catch (e) {
				/* not JSON: the check below fails */
			}
		});
		const shot = async (name) => {
			const file = path.join(outdir, `overview-${tag}-${name}.png`);
			await page.waitForTimeout(150);
			await page.screenshot({ path: file, fullPage: true });
			facts.shots.push(file);
		};
		const kpis = async () => ({
			scans: num(await page.textContent('#kpi-scans .value')),
			counterfeit: num(await page.textContent(
			    '#kpi-counterfeit .value')),
		});

		const fake = process.env.SIGIL_TEST_FAKE_PATH;
		if (fake) {
			const phone = await browser.newContext({ locale,
			    timezoneId: tz, viewport: { width: 390, height: 844 },
			    geolocation: { latitude: 34.26, longitude: 108.94,
			    accuracy: 30 }, permissions: ['geolocation'],
			    userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like ' +
			    'Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) ' +
			    'Mobile/15E148 MicroMessenger/8.0.40' });
			const p = await phone.newPage();
			await p.goto(base + fake, { waitUntil: 'load' });
			check(await p.getAttribute('[data-verdict]', 'data-verdict') ===
			    'counterfeit', 'the consumer sees the counterfeit page');
			const ok = await p.getAttribute('#share', 'data-ok');
			await p.click('#share');
			await p.waitForFunction((t) => document.getElementById(
			    'share-status').textContent === t, ok, { timeout: 10000 })
			    .catch(() => {});
			check(await p.textContent('#share-status') === ok,
			    'the consumer shares the place from the counterfeit page');
			const file = path.join(outdir, `overview-${tag}-fake-shared.png`);
			await p.screenshot({ path: file, fullPage: true });
			facts.shots.push(file);
			await phone.close();
		}

		const offset = await page.evaluate(() =>
		    new Date().getTimezoneOffset());
		check(true, `the browser's offset: ${-offset} minutes`);

		await page.goto(base + '/admin/', { waitUntil: 'load' });
		await page.waitForSelector('#login-form');
		await page.fill('#login-email', email);
		await page.fill('#login-password', password);
		await page.click('#login-form button[type=submit]');
		await page.waitForSelector('#kpi-scans', { timeout: 10000 });

		/* By hour: the last hour's scans are there. */
		answers.length = 0;
		await page.evaluate(() => {
			location.hash = '#/overview?bucket=hour&days=1';
		});
		await page.waitForFunction(() => document.querySelector(
		    '#bucket') && document.querySelector('#bucket').value ===
		    'hour' && document.querySelector('#kpi-scans'), null,
		    { timeout: 10000 });
		for (let i = 0; i < 100 && !answers.length; i++)
			await page.waitForTimeout(100);
		await page.waitForTimeout(300);
		let k = await kpis();
		check(k.scans === scans, `by hour: KPI scans ${k.scans} = ${scans}`);
		check(k.counterfeit === fakes,
		    `by hour: KPI counterfeit ${k.counterfeit} = ${fakes}`);
		const last = answers[answers.length - 1];
		const q = new URLSearchParams(facts.queries[facts.queries.length - 1]);
		check(q.get('tz') === String(-offset / 60) &&
		    /Z$/.test(q.get('from')) && /Z$/.test(q.get('to')),
		    `by hour the page asks in instants with tz ${q.get('tz')}`);
		check(last && last.from.replace('.000Z', 'Z') === q.get('from'),
		    'the server keeps the instants it was given');
		const series = last ? last.series : [];
		const recent = series.slice(-2).reduce((s, b) => s + b.scans, 0);
		check(recent === scans, `the last hour's buckets hold the ${scans} ` +
		    `scans (${series.map((b) => b.scans).join(',')})`);
		await page.waitForSelector('#chart-rewards svg', { timeout: 10000 });
		const charts = await page.$$eval('#main .ov-chart svg',
		    (l) => l.length);
		check(charts === 3, `three ECharts charts drawn (${charts})`);
		/* Each chart one meaning: claims never share a chart with
		 * suspicious scans. */
		const names = await page.evaluate(() => ['chart-scans',
		    'chart-risk', 'chart-rewards'].map((id) => window.echarts
		    .getInstanceByDom(document.getElementById(id)).getOption()
		    .series.map((s) => s.name)));
		check(names[2].length === 2 && !names[2].some((n) =>
		    /可疑|Suspicious/.test(n)) && names[1].some((n) =>
		    /可疑|Suspicious/.test(n)), 'claims and suspicious scans on ' +
		    `different charts (${JSON.stringify(names)})`);
		const ticks = await page.evaluate(() => window.echarts
		    .getInstanceByDom(document.getElementById('chart-scans'))
		    .getOption().xAxis[0].data);
		check(ticks.length > 0 && ticks.every((x) =>
		    /^\d{4}-\d\d-\d\d \d\d:00$/.test(x)),
		    `hour buckets as ISO local times (${ticks.slice(-2)})`);
		const lastTick = ticks[ticks.length - 1];
		const expect = await page.evaluate(() => {
			const d = new Date(Math.ceil(Date.now() / 3600000) *
			    3600000 - 3600000);
			const p = (n) => String(n).padStart(2, '0');
			return `${d.getFullYear()}-${p(d.getMonth() + 1)}-` +
			    `${p(d.getDate())} ${p(d.getHours())}:00`;
		});
		check(lastTick === expect, `the last bucket is this local hour ` +
		    `(${lastTick} = ${expect})`);
		check(/(发放积分|Points issued)/.test(await page.textContent(
		    '#kpi-points .label')), 'points are said to be issued');
		/* The 24 hours before had nothing: "–", no colour. */
		check(/compare=previous/.test(facts.queries[facts.queries.length -
		    1]), 'the page asks for the period before');
		const prevAns = last && last.previous;
		check(prevAns && prevAns.to === last.from &&
		    new Date(last.from) - new Date(prevAns.from) ===
		    new Date(last.to) - new Date(last.from),
		    'by hour the period before is as long and ends where this ' +
		    `starts (${prevAns && prevAns.from})`);
		for (const key of ['scans', 'counterfeit', 'claims']) {
			const d = await deltaOf(page, key);
			check(d.chg === '–' && /\bflat\b/.test(d.cls) &&
			    /(上期|Previous) 0$/.test(d.prev) &&
			    /(上期|Previous period)/.test(d.title),
			    `by hour ${key}: "–" against an empty period before ` +
			    `(${d.chg} · ${d.prev} · ${d.title})`);
		}
		await shot('hour');

		/* By day: the same scans today. */
		await page.evaluate(() => {
			location.hash = '#/overview?bucket=day&days=7';
		});
		await page.waitForFunction(() => document.querySelector(
		    '#bucket') && document.querySelector('#bucket').value ===
		    'day' && document.querySelector('#kpi-scans'), null,
		    { timeout: 10000 });
		await page.waitForTimeout(300);
		k = await kpis();
		check(k.scans === scans && k.counterfeit === fakes,
		    `by day: ${k.scans} scans, ${k.counterfeit} counterfeit`);
		const dq = new URLSearchParams(facts.queries[facts.queries.length - 1]);
		const today = await page.evaluate(() => {
			const d = new Date();
			return `${d.getFullYear()}-${String(d.getMonth() + 1)
			    .padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
		});
		check(dq.get('to') === today, `by day the page asks for local ` +
		    `dates (to=${dq.get('to')}, today ${today})`);
		const cls = await page.getAttribute('#kpi-counterfeit', 'class');
		check(fakes === 0 || /\bbad\b/.test(cls),
		    'a counterfeit count is shown as bad');
		const dticks = await page.evaluate(() => window.echarts
		    .getInstanceByDom(document.getElementById('chart-scans'))
		    .getOption().xAxis[0].data);
		check(dticks.length === 7 && dticks[6] === today &&
		    dticks.every((x) => /^\d{4}-\d\d-\d\d$/.test(x)),
		    `day buckets as ISO dates (${dticks[0]} … ${dticks[6]})`);
		/* The 7 days before: more scans is good (green), more
		 * counterfeit bad (red); the value before beside it, the
		 * period's local dates in the title. */
		const ds = await deltaOf(page, 'scans');
		const dc = await deltaOf(page, 'counterfeit');
		const first = await page.evaluate(() => {
			const d = new Date(Date.now() - 13 * 86400000);
			const p = (n) => String(n).padStart(2, '0');
			return `${d.getFullYear()}-${p(d.getMonth() + 1)}-` +
			    `${p(d.getDate())}`;
		});
		const cmp = (cur, prev, d, mood, key) => check(prev === 0 ?
		    d.chg === '–' : d.chg === pctText(cur, prev) &&
		    new RegExp(`\\b${mood}\\b`).test(d.cls) &&
		    d.prev.endsWith(' ' + prev) && d.title.includes(first),
		    `by day ${key}: ${d.chg} (${d.cls}) against ${d.prev}; ` +
		    `${d.title}`);
		cmp(scans, prevScans, ds, scans >= prevScans ? 'good' : 'bad',
		    'scans');
		cmp(fakes, prevFakes, dc, fakes > prevFakes ? 'bad' : 'good',
		    'counterfeit');
		const dashed = await page.evaluate(() => {
			const s = window.echarts.getInstanceByDom(document
			    .getElementById('chart-scans')).getOption().series;
			const d = s.find((x) => x.lineStyle &&
			    x.lineStyle.type === 'dashed');
			return d ? { name: d.name, sum: d.data.reduce((a, b) =>
			    a + (b || 0), 0), n: d.data.length } : null;
		});
		check(dashed && dashed.sum === prevScans && dashed.n === 7 &&
		    /(上期扫码|previous period)/.test(dashed.name),
		    `the scans chart: the 7 days before dashed ` +
		    `(${JSON.stringify(dashed)})`);
		await shot('day');

		/* The tablet: KPI cards wrap in whole rows, no card alone;
		 * tick labels of 12 px. */
		await page.setViewportSize({ width: 1024, height: 768 });
		await page.waitForTimeout(400);
		const rows = await page.$$eval('#main .kpi', (l) => {
			const byTop = {};
			for (const k of l) {
				const top = Math.round(k.getBoundingClientRect().top);
				byTop[top] = (byTop[top] || 0) + 1;
			}
			return Object.values(byTop);
		});
		check(rows.length >= 2 && rows.every((n) => n >= 2),
		    `1024 px: KPI rows of ${rows.join(' + ')} cards, none alone`);
		const spill = await page.$$eval('#main .kpi', (l) => l.filter(
		    (k) => k.scrollWidth > k.clientWidth + 1 || [...k.querySelectorAll(
		    '.delta span')].some((s) => s.getBoundingClientRect().right >
		    k.getBoundingClientRect().right)).map((k) => k.id));
		check(spill.length === 0, '1024 px: every comparison line fits ' +
		    `its card (${spill.join(', ')})`);
		const sizes = await page.$$eval('#chart-scans svg text', (l) =>
		    l.map((x) => parseFloat(getComputedStyle(x).fontSize)));
		check(sizes.length > 0 && Math.min(...sizes) >= 12,
		    `1024 px: chart labels of ${Math.min(...sizes)} px or more`);
		await shot('day-1024');
		await page.setViewportSize({ width: 1440, height: 900 });

		/* The map: a red dot where the fake was scanned. */
		await page.evaluate(() => { location.hash = '#/geo'; });
		await page.waitForSelector('#region-map .map-box svg path',
		    { timeout: 10000 });
		const dots = await page.evaluate(() => {
			const c = window.echarts.getInstanceByDom(
			    document.querySelector('#region-map .map-box'));
			const s = c.getOption().series.find((x) =>
			    x.type === 'scatter' && /假冒|Counterfeit/.test(x.name));
			return s ? s.data.map((d) => d.value) : [];
		});
		check(fakes === 0 || dots.some((v) => v[0] === 108.5 &&
		    v[1] === 34.5), `the map marks where a counterfeit was ` +
		    `scanned (Xi'an's cell: ${JSON.stringify(dots)})`);
		await shot('geo');

		/* The alerts page: the brand's one counterfeit alert, counting
		 * the fakes (one alert per code and signal; a fake has no code). */
		await page.evaluate(() => { location.hash = '#/alerts'; });
		await page.waitForSelector('#alert-type', { timeout: 10000 });
		await page.selectOption('#alert-type', 'counterfeit');
		await page.waitForFunction(() => document.querySelectorAll(
		    '#main table tbody tr').length >= 1, null, { timeout: 10000 })
		    .catch(() => {});
		await page.waitForTimeout(300);
		const rowsText = await page.$$eval('#main table tbody tr',
		    (l) => l.map((r) => r.textContent));
		const allFakes = fakes + prevFakes;
		check(rowsText.length === (allFakes ? 1 : 0) && (allFakes < 2 ||
		    rowsText[0].includes(String(allFakes))), `the alerts page: ` +
		    `one counterfeit alert counting ${allFakes} ` +
		    `(${rowsText.join(' | ')})`);
		await shot('alerts');
	} finally {
		await browser.close();
	}
	process.stdout.write(JSON.stringify(Object.assign({ failures: tally.failures },
	    facts)) + '\n');
	process.exit(tally.failures ? 1 : 0);
}

main(process.argv.slice(2)).catch((e) => {
	process.stdout.write('FAIL ' + (e && e.stack || e) + '\n');
	process.stdout.write(JSON.stringify({ failures: tally.failures + 1 }) + '\n');
	process.exit(1);
});
