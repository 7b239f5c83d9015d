/*
 * lib.js - what every browser test here shares: Debian's headless
 * Chromium (SIGIL_CHROMIUM overrides the path), launched with nothing of
 * its own on the network, and the "ok ..."/"FAIL ..." line each check
 * prints, counted in tally.failures.
 *
 * Every page of a zh-CN context is watched for the server's English
 * (issue 19): the message of every error the server answers it is
 * noted, and before each screenshot (every test takes one of each page
 * state) the page's visible text must hold none of them. A test that
 * shows one fails, whatever it was testing.
 */
'use strict';

const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.SIGIL_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking',
	'--disable-component-update', '--disable-sync'];

const tally = { failures: 0 };

function check(cond, what) {
	process.stdout.write((cond ? 'ok   ' : 'FAIL ') + what + '\n');
	if (!cond)
		tally.failures++;
	return cond;
}

/* The error messages (Latin text) in a JSON error answer, if any. */
async function serverMessages(response) {
	const type = response.headers()['content-type'] || '';
	if (response.status() < 400 || !/json/.test(type))
		return [];
	let doc;
	try {
		doc = await response.json();
	} catch (e) {
		return [];
	}
	const out = [];
	const e = doc && doc.error;
	for (const m of [e && e.message, doc && doc.detail, doc && doc.title])
		if (typeof m === 'string' && /[A-Za-z]{3}/.test(m) && m.length > 6)
			out.push(m);
	return out;
}

function watchEnglish(page) {
	const said = new Set();
	page.on('response', async (r) => {
		for (const m of await serverMessages(r))
			said.add(m);
	});
	const shot = page.screenshot.bind(page);
	page.screenshot = async (opts) => {
		let text = '';
		try {
			text = await page.evaluate(() => document.body ?
			    document.body.innerText : '');
		} catch (e) {
			text = '';
		}
		for (const m of said)
			if (text.includes(m))
				check(false, `a zh-CN page shows the server's English ` +
				    `"${m}" (${opts && opts.path || 'screenshot'})`);
		return shot(opts);
	};
}

/* Every dashboard test's zone: the brand team's, in China. */
const TZ = 'Asia/Shanghai';

/* The dashboard's when(): ISO, local (2026-12-07 14:05), in Shanghai. */
function shanghai(iso) {
	return new Date(iso).toLocaleString('sv-SE', { timeZone: TZ,
	    year: 'numeric', month: '2-digit', day: '2-digit',
	    hour: '2-digit', minute: '2-digit' });
}

/* The date (YYYY-MM-DD) in Shanghai of d: a Date, or a number of days
 * from now (today when not given). */
function shanghaiDate(d) {
	const at = d instanceof Date ? d :
	    new Date(Date.now() + (d || 0) * 86400000);
	return new Intl.DateTimeFormat('en-CA', { timeZone: TZ,
	    year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

async function launch() {
	const browser = await chromium.launch({ executablePath: CHROMIUM,
	    args: ARGS });
	const newContext = browser.newContext.bind(browser);
	browser.newContext = async (opts) => {
		const context = await newContext(opts);
		if (opts && /^zh/i.test(opts.locale || ''))
			context.on('page', watchEnglish);
		return context;
	};
	return browser;
}

/* A page as a brand team in China sees the dashboard: zh-CN, Shanghai
 * time, 1440x900, downloads kept. */
async function zhPage(browser) {
	const context = await browser.newContext({ locale: 'zh-CN',
	    timezoneId: TZ, viewport: { width: 1440, height: 900 },
	    acceptDownloads: true });
	return context.newPage();
}

/*
 * What every dashboard test counts against a page, noted in facts: a
 * dialog (pages confirm in the page, never with confirm()) in
 * facts.dialogs, and dismissed; a console error in facts.console_errors
 * unless it reports one of opts.allow's statuses (answers the test
 * provokes and the page shows; [401] when not given, [] to count every
 * one), or, with opts.vendor the status of /admin/vendor/echarts.js,
 * what the frame says about an absent (404) vendored ECharts; an
 * uncaught page error always. With opts.origin, a request to any other
 * origin is noted in facts.external_requests.
 */
function watch(page, facts, opts = {}) {
	const allow = opts.allow || [401];
	const allowed = allow.length ?
	    new RegExp(`status of (${allow.join('|')})`) : null;
	facts.dialogs = facts.dialogs || [];
	facts.console_errors = facts.console_errors || [];
	page.on('dialog', async (d) => {
		facts.dialogs.push(d.type() + ': ' + d.message());
		await d.dismiss();
	});
	page.on('console', (m) => {
		if (opts.vendor === 404) {
			const url = (m.location() && m.location().url) || '';
			if (/\/admin\/vendor\//.test(url) ||
			    /\/admin\/vendor\//.test(m.text()))
				return;
		}
		if (m.type() === 'error' && !(allowed && allowed.test(m.text())))
			facts.console_errors.push(m.text());
	});
	page.on('pageerror', (e) => facts.console_errors.push(String(e)));
	if (opts.origin) {
		facts.external_requests = facts.external_requests || [];
		page.on('request', (r) => {
			const u = r.url();
			if (!/^(data|blob|about):/.test(u) &&
			    new URL(u).origin !== opts.origin)
				facts.external_requests.push(u);
		});
	}
}

/*
 * shot(name[, selector]): once the page has settled (opts.wait ms, 150
 * when not given), a full-page screenshot (of the selector's element
 * alone when given) kept as OUTDIR/NAME.png, NAME being name(n) when
 * name is a function of the shot's number (from 1), else prefix + name,
 * and its file noted in facts.shots.
 */
function shooter(page, facts, outdir, prefix, opts = {}) {
	facts.shots = facts.shots || [];
	return async (name, selector) => {
		const base = typeof prefix === 'function' ?
		    prefix(name, facts.shots.length + 1) : (prefix || '') + name;
		const file = path.join(outdir, base + '.png');
		await page.waitForTimeout(opts.wait || 150);
		const o = { path: file, fullPage: true };
		if (selector) {
			/* Exactly the element's pixels (it may sit at a fraction). */
			const r = await page.locator(selector).boundingBox();
			const y = await page.evaluate(() => window.scrollY);
			o.clip = { x: Math.round(r.x), y: Math.round(r.y + y),
			    width: Math.round(r.width), height: Math.round(r.height) };
		}
		await page.screenshot(o);
		facts.shots.push(file);
	};
}

/*
 * The dashboard at base, driven through page: get(path) is the JSON of
 * a GET made by the page (its session); goto(hash, selector) follows a
 * link of the frame and waits for selector; login(email[, password])
 * signs in through the form (password: SIGIL_TEST_PASSWORD when not
 * given) and waits for ready (the overview's first figure by default).
 */
function dashboard(page, base, ready = '#kpi-scans') {
	const get = (p) => page.evaluate(async (u) =>
	    (await fetch(u)).json(), p);
	const goto = async (hash, selector) => {
		await page.evaluate((h) => { location.hash = h; }, hash);
		await page.waitForSelector(selector, { timeout: 10000 });
	};
	const login = async (email, password) => {
		await page.goto(base + '/admin/', { waitUntil: 'load' });
		await page.waitForSelector('#login-form');
		await page.fill('#login-email', email);
		await page.fill('#login-password', password ||
		    process.env.SIGIL_TEST_PASSWORD);
		await page.click('#login-form button[type=submit]');
		await page.waitForSelector(ready, { timeout: 10000 });
	};
	/* The language switch: to English (the page's h1 reads title, then
	 * selector shows), or back to Chinese (selector shows). */
	const english = async (title, selector) => {
		await page.click('#lang');
		await page.waitForFunction((t) =>
		    document.querySelector('h1') &&
		    document.querySelector('h1').textContent === t,
		    title, { timeout: 10000 });
		await page.waitForSelector(selector);
	};
	const chinese = async (selector) => {
		await page.click('#lang');
		await page.waitForSelector(selector);
	};
	return { get, goto, login, english, chinese };
}

/*
 * The end of a test: no dialog fired, no console error, no external
 * request (each checked where facts notes it), then facts with the
 * failure count as the last line of output; the exit code.
 */
function finish(facts) {
	if (facts.dialogs)
		check(facts.dialogs.length === 0, 'no dialog fired: ' +
		    JSON.stringify(facts.dialogs));
	if (facts.console_errors)
		check(facts.console_errors.length === 0, 'no console errors: ' +
		    JSON.stringify(facts.console_errors));
	if (facts.external_requests)
		check(facts.external_requests.length === 0, 'no external ' +
		    'requests: ' + JSON.stringify(facts.external_requests));
	facts.failures = tally.failures;
	process.stdout.write(JSON.stringify(facts) + '\n');
	return tally.failures === 0 ? 0 : 1;
}

/*
 * Runs main(argv) and exits with its code; an exception is one more
 * failure, said on stderr and in the last (JSON) line.
 */
function run(name, main) {
	main(process.argv.slice(2)).then((rc) => process.exit(rc)).catch((e) => {
		process.stderr.write(`${name}: ${e && e.stack ? e.stack : e}\n`);
		process.stdout.write(JSON.stringify({ failures: tally.failures + 1,
		    error: String(e && e.message ? e.message : e) }) + '\n');
		process.exit(1);
	});
}

module.exports = { TZ, check, dashboard, finish, launch, run, shanghai,
	shanghaiDate, shooter, tally, watch, zhPage };
