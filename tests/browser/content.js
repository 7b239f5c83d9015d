#!/usr/bin/env node
/*
 * content.js - a landing page with the brand's content in headless
 * Chromium, as a phone at 390x844: a full-page screenshot, and what ran.
 *
 *   node tests/browser/content.js page URL OUT.png
 *   node tests/browser/content.js frame ORIGIN PREVIEW.html OUT.png
 *
 * "page" opens URL. "frame" opens ORIGIN (a page of sigild's own origin)
 * and shows the HTML of PREVIEW.html in a sandboxed iframe (sandbox="",
 * srcdoc), the way the dashboard's editor shows a preview.
 *
 * Prints one line of JSON: the page's text, lang, whether the globals an
 * injected script would set exist (window.pwned), the images and whether
 * each loaded, the trace card's steps, the buttons' hrefs, console
 * errors, Content-Security-Policy violations, requests that left the
 * page's origin, and whether the page's own script ran. SIGIL_LOCALE
 * sets the browser's language (and Accept-Language). Exit 0 when the
 * page loaded, 1 otherwise, 2 on bad usage.
 */
'use strict';

const fs = require('fs');
const { launch, watch: watchPage } = require('./lib');


function usage() {
	process.stderr.write('usage: node content.js page URL OUT.png | ' +
	    'frame ORIGIN PREVIEW.html OUT.png\n');
	process.exit(2);
}

/* Runs in the page (and each frame): what an attacker's script would
 * change, and the policy violations the browser reports. */
function watch() {
	window.__csp = [];
	document.addEventListener('securitypolicyviolation', (e) => {
		window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
	});
}

function facts() {
	const doc = document;
	const $ = (s) => Array.from(doc.querySelectorAll(s));
	const ran = doc.documentElement.classList.contains('js');
	return {
		text: doc.body ? doc.body.innerText : '',
		lang: doc.documentElement.lang,
		verdict: (doc.getElementById('verdict') || {}).textContent || null,
		images: $('img').map((i) => ({ src: i.getAttribute('src'),
			loaded: i.complete && i.naturalWidth > 0 })),
		steps: $('#trace li b').map((b) => b.textContent),
		buttons: $('a.btn').map((a) => ({ href: a.getAttribute('href'),
			label: a.textContent })),
		scripts: $('script').length,
		own_script_ran: ran,
		injected: $('script,iframe,object,embed,svg [onload],[onerror],' +
		    '[onclick],[onmouseover]').filter((e) =>
		    e.tagName !== 'SCRIPT' || e.textContent.indexOf('pwned') >= 0)
		    .length,
	};
}

async function main(argv) {
	const mode = argv[0];
	if (!(mode === 'page' && argv.length === 3) &&
	    !(mode === 'frame' && argv.length === 4))
		usage();
	const url = argv[1];
	const out = argv[argv.length - 1];
	const origin = new URL(url).origin;
	const browser = await launch();
	try {
		const context = await browser.newContext({
			viewport: { width: 390, height: 844 },
			deviceScaleFactor: 2, isMobile: true, hasTouch: true,
			locale: process.env.SIGIL_LOCALE || 'en-US',
		});
		await context.addInitScript(watch);
		const page = await context.newPage();
		const noted = {};
		watchPage(page, noted, { allow: [], origin });
		const resp = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
		let doc = 'document', frame = page.mainFrame();
		if (mode === 'frame') {
			const html = fs.readFileSync(argv[2], 'utf8');
			await page.setContent('<!DOCTYPE html><meta name="viewport" ' +
			    'content="width=device-width"><body style="margin:0">' +
			    '<iframe id="pv" sandbox="" style="border:0;width:390px;' +
			    'height:844px"></iframe></body>');
			await page.$eval('#pv', (f, h) => { f.srcdoc = h; }, html);
			const h = await page.$('#pv');
			frame = await h.contentFrame();
			await frame.waitForLoadState('load');
			await page.waitForTimeout(300);
			doc = 'frame';
		}
		await page.waitForTimeout(200);
		await page.screenshot({ path: out, fullPage: mode === 'page' });
		const f = await frame.evaluate(facts);
		const g = await page.evaluate(() => ({
			pwned: typeof window.pwned !== 'undefined' ||
			    typeof window.__pwned !== 'undefined',
			csp: window.__csp || [],
		}));
		let framePwned = false;
		if (mode === 'frame') {
			try {
				framePwned = await frame.evaluate(() =>
				    typeof window.pwned !== 'undefined');
			} catch (e) {
				framePwned = false;
			}
		}
		process.stdout.write(JSON.stringify(Object.assign(f, {
			mode: doc,
			status: resp ? resp.status() : null,
			pwned: g.pwned || framePwned,
			csp_violations: g.csp,
			console_errors: noted.console_errors,
			external_requests: noted.external_requests,
		})) + '\n');
	} finally {
		await browser.close();
	}
}

main(process.argv.slice(2)).catch((e) => {
	process.stderr.write(`content.js: ${e && e.message ? e.message : e}\n`);
	process.exit(1);
});
