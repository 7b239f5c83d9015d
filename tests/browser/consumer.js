#!/usr/bin/env node
/*
 * consumer.js - a consumer's journey through the landing and member pages
 * in headless Chromium, as a phone at 390x844 in one browser (so the
 * device cookie carries from page to page), step by step from a plan.
 *
 *   node tests/browser/consumer.js PLAN.json
 *
 * PLAN: {"locale": "zh-CN", "timezone": "Asia/Shanghai", "outbox": the
 * OTP outbox, "dir": where screenshots go, "geo": {latitude, longitude},
 * "steps": [...]}, each step one of
 *   {"goto": URL}            open a page (waits for its first requests)
 *   {"fill": [SEL, TEXT]}    type into a field
 *   {"otp": [SEL, PHONE]}    type the last code the outbox holds for PHONE
 *   {"badotp": [SEL, PHONE]} type a code that is not that one
 *   {"click": SEL}           click, then wait for the API answer it caused
 *   {"tap": SEL}             click without waiting for an answer
 *   {"wait": MS}
 *   {"snap": NAME}           screenshot DIR/NAME.png and record the facts
 * Prints one line of JSON: {"snaps": {NAME: facts}, "messages": every
 * error message an API answer carried, "leaks": [{snap, text}] where a
 * page showed such a message (or, in a zh page, a Latin word in a status
 * line), "console_errors", "external_requests"}. Exit 0 when the plan
 * ran, 1 otherwise, 2 on bad usage.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { launch } = require('./lib');


function lastOtp(outbox, phone) {
	let code = null;
	for (const line of fs.readFileSync(outbox, 'utf8').split('\n')) {
		const m = / phone=(\d+) code=(\d{6})$/.exec(line.trim());
		if (m && m[1] === '86' + phone)
			code = m[2];
	}
	if (code === null)
		throw new Error('no code in the outbox for ' + phone);
	return code;
}

/* What a person reads, runs in the page. */
function facts() {
	const $ = (id) => document.getElementById(id);
	const txt = (id) => ($(id) ? $(id).textContent.trim() : null);
	const reward = $('reward');
	const send = $('rw-send');
	return {
		text: document.body ? document.body.innerText : '',
		lang: document.documentElement.lang,
		verdict: txt('verdict'),
		scan_info: txt('scan-info'),
		check_id: txt('check-id'),
		status: txt('rw-status') !== null ? txt('rw-status') : txt('status'),
		share_status: txt('share-status'),
		reward: reward ? (reward.hidden ? 'hidden' : 'shown') : 'absent',
		offer: $('rw-offer') && !$('rw-offer').hidden ? txt('rw-offer') : null,
		send: send ? { label: send.textContent, disabled: send.disabled } : null,
		claim_shown: !!($('rw-claim') && !$('rw-claim').hidden),
		times: Array.from(document.querySelectorAll('time[datetime]')).map(
		    (e) => [e.getAttribute('datetime'), e.textContent]),
		balance: txt('balance'),
		tier: txt('tier'),
		tier_visible: !!($('tier') && getComputedStyle($('tier')).display !== 'none'),
		buttons: Array.from(document.querySelectorAll('#catalog button')).map(
		    (b) => ({ label: b.textContent, disabled: b.disabled })),
		login_shown: !!($('login') && !$('login').hidden),
		confirm: $('confirm') && !$('confirm').hidden ? txt('confirm-t') : null,
		next: $('next') && !$('next').hidden ? txt('next-t') : null,
		expiry: $('expiry') && !$('expiry').hidden ? txt('expiry') : null,
		orders: $('orders-c') && !$('orders-c').hidden ? $('orders').innerText : null,
		ledger: Array.from(document.querySelectorAll('#ledger .row')).map(
		    (r) => r.innerText.replace(/\s+/g, ' ').trim()),
	};
}

async function main(argv) {
	if (argv.length !== 1) {
		process.stderr.write('usage: node consumer.js PLAN.json\n');
		process.exit(2);
	}
	const plan = JSON.parse(fs.readFileSync(argv[0], 'utf8'));
	const browser = await launch();
	const out = { snaps: {}, messages: [], leaks: [], console_errors: [],
		external_requests: [] };
	let origin = null;
	try {
		const context = await browser.newContext({
			viewport: { width: 390, height: 844 },
			deviceScaleFactor: 2, isMobile: true, hasTouch: true,
			locale: plan.locale, timezoneId: plan.timezone,
			geolocation: plan.geo, permissions: plan.geo ? ['geolocation'] : [],
			userAgent: 'Mozilla/5.0 (Linux; Android 13; Pixel 7) ' +
			    'AppleWebKit/537.36 (KHTML, like Gecko) ' +
			    'Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.47',
		});
		const page = await context.newPage();
		page.on('console', (m) => {
			if (m.type() === 'error')
				out.console_errors.push(m.text());
		});
		page.on('pageerror', (e) => out.console_errors.push(String(e)));
		page.on('request', (r) => {
			const u = r.url();
			if (origin && !u.startsWith('data:') && new URL(u).origin !== origin)
				out.external_requests.push(u);
		});
		page.on('response', async (r) => {
			if (!r.url().includes('/api/') || r.status() < 400)
				return;
			try {
				const doc = await r.json();
				const m = doc && doc.error && doc.error.message;
				if (typeof m === 'string' && m && !out.messages.includes(m))
					out.messages.push(m);
			} catch (e) { /* not JSON */ }
		});
		for (const step of plan.steps) {
			if (step.goto) {
				origin = origin || new URL(step.goto).origin;
				await page.goto(step.goto, { waitUntil: 'networkidle', timeout: 30000 });
			} else if (step.fill) {
				await page.fill(step.fill[0], step.fill[1]);
			} else if (step.otp) {
				await page.fill(step.otp[0], lastOtp(plan.outbox, step.otp[1]));
			} else if (step.badotp) {
				const c = Number(lastOtp(plan.outbox, step.badotp[1]));
				await page.fill(step.badotp[0], String((c + 1) % 1000000).padStart(6, '0'));
			} else if (step.click) {
				await Promise.all([
					page.waitForResponse((r) => r.url().includes('/api/'), { timeout: 20000 }),
					page.click(step.click),
				]);
				await page.waitForTimeout(400);
			} else if (step.tap) {
				await page.click(step.tap);
			} else if (step.wait) {
				await page.waitForTimeout(step.wait);
			} else if (step.snap) {
				await page.waitForTimeout(200);
				await page.screenshot({ path: path.join(plan.dir, step.snap + '.png'),
					fullPage: true });
				const f = await page.evaluate(facts);
				out.snaps[step.snap] = f;
				for (const m of out.messages)
					if (f.text.includes(m))
						out.leaks.push({ snap: step.snap, text: m });
				if (/^zh/.test(plan.locale))
					for (const s of [f.status, f.share_status])
						if (s && /[A-Za-z]{3,}/.test(s))
							out.leaks.push({ snap: step.snap, text: s });
			}
		}
	} finally {
		await browser.close();
	}
	process.stdout.write(JSON.stringify(out) + '\n');
}

main(process.argv.slice(2)).catch((e) => {
	process.stderr.write(`consumer.js: ${e && e.stack ? e.stack : e}\n`);
	process.exit(1);
});
