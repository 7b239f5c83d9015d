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

module.exports = { check, launch, tally };
