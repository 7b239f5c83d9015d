/*
 * lib.js - what every browser test here shares: Debian's headless
 * Chromium (SIGIL_CHROMIUM overrides the path), launched with nothing of
 * its own on the network, and the "ok ..."/"FAIL ..." line each check
 * prints, counted in tally.failures.
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

function launch() {
	return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

module.exports = { check, launch, tally };
