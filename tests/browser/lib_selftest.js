#!/usr/bin/env node
/*
 * lib_selftest.js - proves that lib.js's watch for the server's English
 * on zh-CN pages can fail: a page (served by Playwright's own request
 * routing, so nothing reaches any network) shows the message of an
 * error answer it got, and the screenshot must count one failure; the
 * same in an English context must count none.
 *
 *   node tests/browser/lib_selftest.js OUTDIR
 *
 * Prints {"ok": true} and exits 0 when the watch behaves.
 */
'use strict';

const path = require('path');
const { launch, tally } = require('./lib');

const PAGE = '<!doctype html><meta charset="utf-8"><p id="out">…</p><script>' +
    'fetch("/api/v1/x").then((r) => r.json()).then((d) => {' +
    'document.getElementById("out").textContent = "出错了: " + ' +
    'd.error.message; document.title = "done"; });</script>';

async function shows(browser, locale, outdir) {
	const context = await browser.newContext({ locale });
	const page = await context.newPage();
	await page.route('http://selftest.invalid/**', (route) => {
		const api = route.request().url().includes('/api/');
		route.fulfill(api ? { status: 422, contentType: 'application/json',
		    body: JSON.stringify({ error: { code: 'invalid',
		    message: "field 'sku' must be 1-64 characters" } }) } :
		    { status: 200, contentType: 'text/html', body: PAGE });
	});
	await page.goto('http://selftest.invalid/page');
	await page.waitForFunction(() => document.title === 'done');
	const before = tally.failures;
	await page.screenshot({ path: path.join(outdir,
	    `lib-selftest-${locale}.png`) });
	await context.close();
	return tally.failures - before;
}

async function main(argv) {
	const browser = await launch();
	let zh, en;
	try {
		zh = await shows(browser, 'zh-CN', argv[0]);
		en = await shows(browser, 'en-US', argv[0]);
	} finally {
		await browser.close();
	}
	const ok = zh === 1 && en === 0;
	process.stdout.write(JSON.stringify({ ok, zh, en }) + '\n');
	process.exit(ok ? 0 : 1);
}

main(process.argv.slice(2));
