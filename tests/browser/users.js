#!/usr/bin/env node
/*
 * users.js - the dashboard's Users page (账户) in Debian's headless
 * Chromium (review F23): an admin sees the brand's users and tokens,
 * disables another user and revokes a token through the in-page
 * confirmation, and changes their own password; an operator sees only
 * the password form.
 *
 *   node tests/browser/users.js BASE_URL ADMIN_EMAIL OPERATOR_EMAIL
 *       OTHER_EMAIL OUTDIR
 *
 * Passwords come from SIGIL_TEST_PASSWORD (everyone's) and
 * SIGIL_TEST_NEW_PASSWORD (the admin's new one). Prints one line per
 * check ("ok ..."/"FAIL ..."), then {"failures": n, "dialogs": [...],
 * "console_errors": [...], "shots": [...]}.
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch } =
    require('./lib');


async function main(argv) {
	if (argv.length !== 5) {
		process.stderr.write('usage: node users.js BASE ADMIN OPERATOR ' +
		    'OTHER OUTDIR\n');
		process.exit(2);
	}
	const [base, admin, operator, other, outdir] = argv;
	const pw = process.env.SIGIL_TEST_PASSWORD;
	const newPw = process.env.SIGIL_TEST_NEW_PASSWORD;
	const facts = {};
	const browser = await launch();
	try {
		const context = await browser.newContext({
			viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
		const page = await context.newPage();
		/* The 403 of a wrong current password is expected and shown. */
		watch(page, facts, { allow: [401, 403] });
		const shot = shooter(page, facts, outdir, 'users-');
		const { login } = dashboard(page, base);
		const usersPage = async () => {
			await page.evaluate(() => { location.hash = '#/users'; });
			await page.waitForSelector('#password-form', { timeout: 10000 });
		};
		const rowOf = (table, text) => page.locator(
		    `${table} tr`, { hasText: text });

		await login(admin, pw);
		await page.click('nav#nav a[data-group=settings]');
		await page.waitForSelector('nav#subnav:not([hidden]), #password-form');
		check((await page.textContent('nav#nav')).includes('设置') &&
		    (await page.textContent('#main h1')).includes('账户'),
		    'the nav\'s 设置 (Settings) group leads to 账户 (Users)');
		await usersPage();
		await page.waitForSelector('#users-table table');
		const ut = await page.textContent('#users-table');
		check(ut.includes(other) && ut.includes(operator) &&
		    ut.includes(admin), 'the users table lists the brand\'s users');
		await shot('admin');

		/* Disable the other user through the in-page confirmation. */
		await rowOf('#users-table', other).getByRole('button',
		    { name: '停用' }).click();
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-ok');
		await page.waitForFunction((o) => {
			const r = [...document.querySelectorAll('#users-table tr')]
			    .find((tr) => tr.textContent.includes(o));
			return r && r.textContent.includes('已停用');
		}, other, { timeout: 10000 });
		const st = await page.evaluate(async () =>
		    (await (await fetch('/api/v1/users')).json()).users);
		check(st.some((u) => u.email === other && u.disabled),
		    'the other user is disabled on the server');

		/* Revoke the newest active token. */
		const before = await page.evaluate(async () =>
		    (await (await fetch('/api/v1/tokens')).json()).tokens
		    .filter((k) => k.active).length);
		await page.locator('#tokens-table button', { hasText: '作废' })
		    .first().click();
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-ok');
		await page.waitForFunction(async (n) =>
		    (await (await fetch('/api/v1/tokens')).json()).tokens
		    .filter((k) => k.active).length === n - 1, before,
		    { timeout: 10000 });
		check(true, 'a token is revoked from the tokens table');

		/* Invite a user: the first password is shown once, and works. */
		const invited = 'invited-' + Date.now() + '@example.com';
		await page.fill('#invite-email', invited);
		await page.selectOption('#invite-role', 'analyst');
		const firstPw = await page.inputValue('#invite-password');
		check(firstPw.length >= 20, 'the invite form offers a long first ' +
		    'password');
		await page.click('#invite-form button[type=submit]');
		await page.waitForSelector('#shown-once');
		check((await page.textContent('#shown-once')).includes(firstPw),
		    'the first password is shown once after the invite');
		await page.waitForFunction((o) => [...document.querySelectorAll(
		    '#users-table tr')].some((tr) => tr.textContent.includes(o)),
		    invited, { timeout: 10000 });
		const inv = await page.evaluate(async () =>
		    (await (await fetch('/api/v1/users')).json()).users);
		check(inv.some((u) => u.email === invited && u.role === 'analyst' &&
		    !u.disabled), 'the invited analyst exists on the server');
		await shot('invited');

		/* A token: its secret is shown once and authenticates. */
		await page.selectOption('#token-role', 'operator');
		await page.fill('#token-days', '30');
		await page.click('#token-form button[type=submit]');
		await page.waitForFunction(() => {
			const b = document.getElementById('shown-once');
			return b && /sgt_/.test(b.textContent);
		}, null, { timeout: 10000 });
		const secret = (await page.textContent('#shown-once code'))
		    .trim();
		const auth = await page.evaluate(async (k) => (await fetch(
		    '/api/v1/batches', { credentials: 'omit', headers:
		    { Authorization: 'Bearer ' + k } })).status, secret);
		check(auth === 200, 'the new token authenticates (' + auth + ')');
		const made = await page.evaluate(async () =>
		    (await (await fetch('/api/v1/tokens')).json()).tokens);
		const newest = made.reduce((a, b) => (a.id > b.id ? a : b));
		check(newest.role === 'operator' && newest.active &&
		    newest.expires !== null, 'the token is an operator\'s, with ' +
		    'an expiry');
		await shot('token');

		/* Own password. */
		await page.fill('#old-password', 'not my password');
		await page.fill('#new-password', newPw);
		await page.click('#password-form button[type=submit]');
		await page.waitForSelector('#toast:not([hidden])');
		check((await page.textContent('#toast')).includes('当前密码不正确'),
		    'a wrong current password is refused in Chinese');
		await page.fill('#old-password', pw);
		await page.fill('#new-password', newPw);
		await page.click('#password-form button[type=submit]');
		await page.waitForFunction(() =>
		    document.getElementById('old-password').value === '',
		    null, { timeout: 10000 });
		await page.click('#logout');
		await page.waitForSelector('#login-form');
		await login(admin, newPw);
		check(true, 'the admin signs in with the new password');
		await page.click('#logout');
		await page.waitForSelector('#login-form');

		/* An operator: the password form only. */
		await login(operator, pw);
		await usersPage();
		await page.waitForTimeout(300);
		check(await page.$('#users-table') === null &&
		    await page.$('#tokens-table') === null,
		    'an operator sees no users or tokens table');
		await shot('operator');
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('users.js', main);
