#!/usr/bin/env node
/*
 * shot.js - open a page in Debian's headless Chromium as a phone would,
 * save a full-page screenshot and print what a person would read.
 *
 *   node tests/browser/shot.js URL OUT.png [width height]
 *
 * Prints document.body.innerText, then one last line of JSON:
 *   {"verdict": <text of #verdict or null>, "lang": <html lang>,
 *    "status": <HTTP status>, "console_errors": [...]}
 * so a shell test can `tail -n 1 | jq`. Exit status: 0 when the page
 * loaded, 1 on a load failure, 2 on bad usage.
 *
 * The browser gets no network beyond what the page asks for, and any
 * request that leaves the page's own origin is reported in
 * "external_requests": the landing page must not make any.
 */
'use strict';

const { launch } = require('./lib');


function usage() {
	process.stderr.write('usage: node shot.js URL OUT.png [width height]\n');
	process.exit(2);
}

async function main(argv) {
	if (argv.length !== 2 && argv.length !== 4)
		usage();
	const [url, out] = argv;
	const width = argv.length === 4 ? Number(argv[2]) : 390;
	const height = argv.length === 4 ? Number(argv[3]) : 844;
	if (!Number.isInteger(width) || !Number.isInteger(height) ||
	    width < 100 || height < 100 || width > 4000 || height > 4000)
		usage();
	const origin = new URL(url).origin;

	const browser = await launch();
	try {
		const context = await browser.newContext({
			viewport: { width, height },
			deviceScaleFactor: 2,
			isMobile: true,
			hasTouch: true,
			// SIGIL_LOCALE=zh-CN sets navigator.language and the
			// Accept-Language header the page is chosen by.
			locale: process.env.SIGIL_LOCALE || 'en-US',
			userAgent: 'Mozilla/5.0 (Linux; Android 13; Pixel 7) ' +
			    'AppleWebKit/537.36 (KHTML, like Gecko) ' +
			    'Chrome/120.0 Mobile Safari/537.36 sigil-shot',
		});
		const page = await context.newPage();
		const consoleErrors = [];
		const external = [];
		page.on('console', (m) => {
			if (m.type() === 'error')
				consoleErrors.push(m.text());
		});
		page.on('pageerror', (e) => consoleErrors.push(String(e)));
		page.on('request', (r) => {
			const u = r.url();
			if (!u.startsWith('data:') && new URL(u).origin !== origin)
				external.push(u);
		});
		const resp = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
		await page.screenshot({ path: out, fullPage: true });
		const text = await page.evaluate(() => document.body ? document.body.innerText : '');
		const facts = await page.evaluate(() => {
			const v = document.getElementById('verdict');
			return {
				verdict: v ? v.textContent.trim() : null,
				lang: document.documentElement.lang,
			};
		});
		process.stdout.write(text.replace(/\n*$/, '\n'));
		process.stdout.write(JSON.stringify({
			verdict: facts.verdict,
			lang: facts.lang,
			status: resp ? resp.status() : null,
			console_errors: consoleErrors,
			external_requests: external,
		}) + '\n');
	} finally {
		await browser.close();
	}
}

main(process.argv.slice(2)).catch((e) => {
	process.stderr.write(`shot.js: ${e && e.message ? e.message : e}\n`);
	process.exit(1);
});
