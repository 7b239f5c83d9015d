#!/usr/bin/env node
/*
 * bidi.js - stored text with bidi controls cannot reorder what is shown
 * beside it (review F21), in Debian's headless Chromium.
 *
 *   node tests/browser/bidi.js BASE_URL OUTDIR
 *
 * The pages come from the real sigild at BASE_URL; the JSON they fetch is
 * answered here (page.route) with values as data stored before the API
 * refused bidi controls could hold them: a tier, item, brand and campaign
 * name with U+202E (RIGHT-TO-LEFT OVERRIDE) and no closing U+202C. Checks
 * the laid-out position of characters (not just the DOM text): the phone
 * number beside the tier on /member and the dates beside a campaign name
 * in the dashboard must still read left to right.
 *
 * Prints one line per check ("ok ..."/"FAIL ...") and, last, a JSON line
 * {"failures": n}. Exit status 0 when every check passed, 1 otherwise.
 */
'use strict';

const path = require('path');
const { check, launch, tally } = require('./lib');

const RLO = '\u202e';
const PHONE = '138****0731';
const DATES = '2026-01-01 → 2026-12-31';

/*
 * In the page: whether needle, inside the element matching selector, is
 * laid out left to right (its first character left of its last), and the
 * element's text. null when the needle is not one text node's text.
 */
function layout([selector, needle]) {
	const root = document.querySelector(selector);
	if (!root)
		return { found: false, text: null, ltr: null };
	const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
	let node;
	while ((node = walker.nextNode())) {
		const i = node.data.indexOf(needle);
		if (i < 0)
			continue;
		const first = document.createRange();
		first.setStart(node, i);
		first.setEnd(node, i + 1);
		const last = document.createRange();
		last.setStart(node, i + needle.length - 1);
		last.setEnd(node, i + needle.length);
		return { found: true, text: root.textContent,
		    ltr: first.getBoundingClientRect().left <
		    last.getBoundingClientRect().left };
	}
	return { found: false, text: root.textContent, ltr: null };
}

function json(route, body) {
	return route.fulfill({ status: 200, contentType: 'application/json',
	    body: JSON.stringify(body) });
}

async function member(browser, base, outdir) {
	const page = await browser.newPage({ viewport: { width: 390, height: 844 },
	    locale: 'en-US' });
	await page.route('**/api/v1/**', (route) => {
		const p = new URL(route.request().url()).pathname;
		if (p === '/api/v1/me')
			return json(route, { brand: { name: 'acme' + RLO + ' tea' },
			    customer: { balance: 120, tier: RLO + 'VIP\u200b',
			    phone: PHONE } });
		if (p === '/api/v1/catalog')
			return json(route, { items: [{ id: 1, name: RLO + 'Cup 10',
			    cost: 100, stock: 5 }] });
		if (p === '/api/v1/me/ledger')
			return json(route, { entries: [] });
		return route.abort();
	});
	await page.goto(base + '/member', { waitUntil: 'load' });
	await page.waitForFunction(() =>
	    !document.getElementById('tier').hidden, null, { timeout: 15000 });
	await page.waitForTimeout(300);
	const tier = await page.evaluate(layout, ['#tier', PHONE]);
	check(tier.found && tier.ltr === true,
	    '/member: the phone beside an RLO tier reads left to right ' +
	    JSON.stringify(tier));
	check(tier.text !== null && !tier.text.includes(RLO),
	    '/member: the RLO is not shown');
	const brand = await page.evaluate(() =>
	    document.getElementById('brand').textContent);
	check(brand === 'acme tea', '/member: brand name without RLO: ' + brand);
	const cat = await page.evaluate(layout, ['#catalog', 'Cup 10']);
	check(cat.found && cat.ltr === true,
	    '/member: an RLO item name is not reversed ' + JSON.stringify(cat));
	await page.screenshot({ path: path.join(outdir, 'bidi-member.png'),
	    fullPage: true });
	await page.close();
}

async function dashboard(browser, base, outdir) {
	const page = await browser.newPage({ viewport: { width: 1280, height: 900 },
	    locale: 'en-US' });
	await page.route('**/admin/me', (route) => json(route, {
		user: { id: 1, email: 'ann@acme.test', role: 'admin' },
		brand: { id: 1, name: RLO + 'acme' }, csrf: '0'.repeat(64) }));
	await page.route('**/api/v1/**', (route) => {
		const p = new URL(route.request().url()).pathname;
		if (p === '/api/v1/campaigns')
			return json(route, { campaigns: [{ id: 1, active: true,
			    created: '2026-01-01T00:00:00.000Z',
			    updated: '2026-01-01T00:00:00.000Z',
			    config: { name: RLO + 'Spring', points: 1234,
			    starts: '2026-01-01T00:00:00.000Z',
			    ends: '2026-12-31T00:00:00.000Z', skus: ['W'] },
			    results: { claims: 5678, points: 910, budget_left: null,
			    prizes_given: 0 }, prizes: [] }] });
		if (p.startsWith('/api/v1/stats/'))
			return json(route, { campaigns: [], rows: [], series: [],
			    totals: {} });
		return json(route, {});
	});
	await page.goto(base + '/admin/#/campaigns', { waitUntil: 'load' });
	await page.waitForSelector('table td', { timeout: 15000 });
	await page.waitForTimeout(300);
	const cell = await page.evaluate(layout, ['table', DATES]);
	check(cell.found && cell.ltr === true,
	    'dashboard: the dates beside an RLO campaign name read left to ' +
	    'right ' + JSON.stringify({ found: cell.found, ltr: cell.ltr }));
	check(cell.text !== null && !cell.text.includes(RLO),
	    'dashboard: no RLO in the campaigns table');
	const claims = await page.evaluate(layout, ['table', '5,678']);
	check(claims.found && claims.ltr === true,
	    'dashboard: numbers in the same row read left to right');
	const brand = await page.evaluate(() =>
	    document.getElementById('brand-name').textContent);
	check(brand === 'acme', 'dashboard: brand name without RLO: ' + brand);
	await page.screenshot({ path: path.join(outdir, 'bidi-dashboard.png'),
	    fullPage: true });
	await page.close();
}

async function main(argv) {
	if (argv.length !== 2) {
		process.stderr.write('usage: node bidi.js BASE_URL OUTDIR\n');
		process.exit(2);
	}
	const [base, outdir] = argv;
	const browser = await launch();
	try {
		await member(browser, base, outdir);
		await dashboard(browser, base, outdir);
	} catch (e) {
		check(false, 'no exception: ' + (e && e.stack || e));
	} finally {
		await browser.close();
	}
	process.stdout.write(JSON.stringify({ failures: tally.failures }) + '\n');
	process.exit(tally.failures ? 1 : 0);
}

main(process.argv.slice(2));
