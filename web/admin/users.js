/*
 * users.js - the dashboard's accounts page (账户, group settings): every
 * user changes their own password; an admin invites dashboard users
 * (a strong first password is made in the browser and shown once, to
 * hand over), disables, enables, resets and removes them, and makes,
 * lists and revokes the brand's API tokens (the secret shown once).
 *
 * It keeps the rules of app.js, whose helpers it uses through
 * window.sigilAdmin: server data reaches the page as text only, every
 * change sends the CSRF token (api()), confirmations are in the page,
 * server errors are shown by their code in the page's language.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, pill, when,
    table, loading, failure } = A;

Object.assign(A.TEXT.zh, {
	users: '账户', change_password: '修改我的密码',
	old_password: '当前密码', new_password: '新密码（至少 10 个字符）',
	enable: '启用', disable: '停用',
	reset_password: '重设密码', remove: '删除', tokens: 'API 令牌',
	never: '永不过期', expired: '已过期',
	confirm_disable: '停用后该用户无法登录，现有会话立即失效，其在控制台创建的 API 令牌将被作废。',
	confirm_remove: '将永久删除该用户，现有会话立即失效，其在控制台创建的 API 令牌将被作废。',
	confirm_revoke_token: '此令牌将立即失效。',
	us_invite: '邀请用户', us_first_pw: '初始密码（自动生成，请转交本人，登录后修改）',
	us_invited: '用户已创建。请把邮箱和初始密码当面或通过安全渠道交给对方：',
	us_new_token: '新建 API 令牌', us_expires_days: '有效天数（空为永不过期）',
	us_token_made: '令牌已创建，只显示这一次，请立即复制保存：',
	us_copy: '复制', us_copied: '已复制', us_made_by: '创建人',
	us_admin: '管理员', us_operator: '操作员', us_analyst: '分析员',
	us_err_exists: '该邮箱已有账户', us_err_bad_credentials: '当前密码不正确',
	us_err_rate_limited: '操作过于频繁，请稍后再试',
	us_err_busy: '服务器正忙于校验密码，请稍后再试',
	us_err_invalid: '输入有误：请检查邮箱、角色与密码长度（至少 10 个字符）',
	us_err_own_account: '不能停用或删除自己的账户',
	us_err_own_password: '请在上方“修改我的密码”中修改自己的密码',
	us_err_revoked: '此令牌已作废', us_err_forbidden: '当前角色无权执行此操作',
	us_err_other: '操作失败，请重试',
});
Object.assign(A.TEXT.en, {
	users: 'Users', change_password: 'Change my password',
	old_password: 'Current password',
	new_password: 'New password (10+ characters)',
	enable: 'Enable', disable: 'Disable',
	reset_password: 'Reset password', remove: 'Remove',
	tokens: 'API tokens', never: 'never', expired: 'Expired',
	confirm_disable: 'The user can no longer sign in; their sessions ' +
	    'end now and the API tokens they made in the dashboard are revoked.',
	confirm_remove: 'The user is removed for good; their sessions end ' +
	    'now and the API tokens they made in the dashboard are revoked.',
	confirm_revoke_token: 'This token stops working at once.',
	us_invite: 'Invite a user',
	us_first_pw: 'First password (made for you: hand it over, to be ' +
	    'changed after signing in)',
	us_invited: 'The user is created. Give them the email and first ' +
	    'password in person or over a safe channel:',
	us_new_token: 'New API token',
	us_expires_days: 'Valid for days (empty: until revoked)',
	us_token_made: 'The token is made. It is shown only this once: ' +
	    'copy it now.',
	us_copy: 'Copy', us_copied: 'Copied', us_made_by: 'Made by',
	us_admin: 'Admin', us_operator: 'Operator', us_analyst: 'Analyst',
	us_err_exists: 'That email already has an account',
	us_err_bad_credentials: 'The current password is wrong',
	us_err_rate_limited: 'Too many attempts; wait a little',
	us_err_busy: 'The server is busy checking passwords; try again soon',
	us_err_invalid: 'Check the email, the role and the password ' +
	    '(10 characters or more)',
	us_err_own_account: 'You cannot disable or remove your own account',
	us_err_own_password: 'Change your own password in the form above',
	us_err_revoked: 'This token is already revoked',
	us_err_forbidden: 'Your role may not do this',
	us_err_other: 'That did not work; try again',
});

/* A server error in the page's language, by its code. */
function says(e) {
	const k = 'us_err_' + (e && e.code);
	return A.TEXT.zh[k] ? t(k) : t('us_err_other');
}

/* 20 characters from a 54-letter alphabet without look-alikes: 115 bits. */
function firstPassword() {
	const abc = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
	const r = crypto.getRandomValues(new Uint32Array(20));
	return Array.from(r, (x) => abc[x % abc.length]).join('');
}

function roleName(r) {
	return A.TEXT.zh['us_' + r] ? t('us_' + r) : String(r);
}

function roleSelect(id) {
	return el('select', { id }, ['analyst', 'operator', 'admin'].map((r) =>
	    el('option', { value: r }, t('us_' + r))));
}

/* A secret shown once, with a copy button; never put anywhere else. */
function shownOnce(title, lines) {
	const box = el('div', { class: 'notice', id: 'shown-once' },
	    el('p', {}, title));
	for (const [label, value] of lines) {
		const code = el('code', { class: 'secret' }, value);
		const copy = el('button', { type: 'button', class: 'ghost', on: {
		    click: async () => {
			try {
				await navigator.clipboard.writeText(value);
				toast(t('us_copied'));
			} catch (e) {
				window.getSelection().selectAllChildren(code);
			}
		    } } }, t('us_copy'));
		box.appendChild(el('p', {}, label ? label + ' ' : '', code, ' ',
		    copy));
	}
	return box;
}

function inviteForm(reload, out) {
	const email = el('input', { type: 'email', id: 'invite-email',
	    required: true, maxlength: 254, autocomplete: 'off' });
	const role = roleSelect('invite-role');
	const pw = el('input', { type: 'text', id: 'invite-password',
	    required: true, minlength: 10, value: firstPassword(),
	    autocomplete: 'off', spellcheck: 'false' });
	const form = el('form', { id: 'invite-form', class: 'card stack' },
	    el('h2', {}, t('us_invite')),
	    el('label', {}, t('email'), email),
	    el('label', {}, t('role'), role),
	    el('label', {}, t('us_first_pw'), pw),
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    class: 'primary' }, t('create'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		try {
			await api('POST', '/api/v1/users', { email:
			    email.value.trim(), role: role.value,
			    password: pw.value });
		} catch (e) {
			toast(says(e), true);
			return;
		}
		const given = [[t('email') + ':', email.value.trim()],
		    [t('password') + ':', pw.value]];
		await reload();
		append(clear(out), [shownOnce(t('us_invited'), given)]);
	});
	return form;
}

function tokenForm(reload, out) {
	const role = roleSelect('token-role');
	const days = el('input', { type: 'number', id: 'token-days', min: 1,
	    max: 3650 });
	const form = el('form', { id: 'token-form', class: 'card stack' },
	    el('h2', {}, t('us_new_token')),
	    el('label', {}, t('role'), role),
	    el('label', {}, t('us_expires_days'), days),
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    class: 'primary' }, t('create'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const req = { role: role.value };
		if (days.value)
			req.expires = Number(days.value) * 86400;
		let made;
		try {
			made = await api('POST', '/api/v1/tokens', req);
		} catch (e) {
			toast(says(e), true);
			return;
		}
		await reload();
		append(clear(out), [shownOnce(t('us_token_made'),
		    [['#' + made.id, made.token]])]);
	});
	return form;
}

async function users(box) {
	const head = el('h1', {}, t('users'));
	box.appendChild(head);
	/* Everyone: their own password (the old one is needed). */
	const oldPw = el('input', { type: 'password', id: 'old-password',
	    autocomplete: 'current-password', required: true });
	const newPw = el('input', { type: 'password', id: 'new-password',
	    autocomplete: 'new-password', required: true, min: 10 });
	const pwForm = el('form', { id: 'password-form', class: 'card' },
	    el('h2', {}, t('change_password')),
	    el('label', {}, t('old_password'), oldPw),
	    el('label', {}, t('new_password'), newPw),
	    el('button', { type: 'submit', class: 'primary' }, t('save')));
	pwForm.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		try {
			await api('POST', '/api/v1/users/me/password',
			    { old_password: oldPw.value, new_password: newPw.value });
			oldPw.value = newPw.value = '';
			toast(t('saved'));
		} catch (e) {
			toast(says(e), true);
		}
	});
	box.appendChild(pwForm);
	if (!can.admin())
		return;
	const out = el('div', { id: 'users-out' });
	const body = el('div', {});
	const forms = el('div', { class: 'grid two' });
	append(box, [out, forms, body]);
	const reload = () => list(body);
	append(forms, [inviteForm(reload, out), tokenForm(reload, out)]);
	await list(body);
}

/* The users and tokens tables, drawn again in place after each change. */
async function list(body) {
	const reload = () => list(body);
	if (!body.firstChild)
		loading(body);
	let ulist, tlist;
	try {
		[ulist, tlist] = await Promise.all([api('GET', '/api/v1/users'),
		    api('GET', '/api/v1/tokens')]);
	} catch (e) {
		failure(body, e, reload);
		return;
	}
	const act = (method, path, question, payload) => async () => {
		if (question && !await confirmBox(t('confirm'),
		    el('p', {}, question)))
			return;
		try {
			await api(method, path, payload === undefined ? {} : payload);
			reload();
		} catch (e) {
			toast(says(e), true);
		}
	};
	const self = A.me().user.email;
	clear(body);
	body.appendChild(el('div', { class: 'card', id: 'users-table' },
	    el('h2', {}, t('users')), table([
	    { label: '#', key: 'id' },
	    { label: t('email'), key: 'email' },
	    { label: t('role'), render: (x) => roleName(x.role) },
	    { label: t('state'), render: (u) => u.disabled ?
	      pill(t('disabled'), 'bad') : pill(t('active'), 'ok') },
	    { label: t('created'), render: (u) => when(u.created) },
	    { label: t('actions'), render: (u) => u.email === self ? '' : [
	      el('button', { type: 'button', on: { click: u.disabled ?
	        act('POST', `/api/v1/users/${u.id}/enable`) :
	        act('POST', `/api/v1/users/${u.id}/disable`,
	        `${u.email}: ${t('confirm_disable')}`) } },
	        u.disabled ? t('enable') : t('disable')), ' ',
	      el('button', { type: 'button', on: { click: async () => {
	        const input = el('input', { type: 'password', min: 10,
	          autocomplete: 'new-password', id: 'reset-password' });
	        if (!await confirmBox(t('reset_password'), el('label', {},
	            `${u.email}: ${t('new_password')}`, input)))
	          return;
	        await act('POST', `/api/v1/users/${u.id}/password`, null,
	          { password: input.value })();
	      } } }, t('reset_password')), ' ',
	      el('button', { type: 'button', on: { click:
	        act('DELETE', `/api/v1/users/${u.id}`,
	        `${u.email}: ${t('confirm_remove')}`) } }, t('remove'))] },
	], ulist.users || [])));
	body.appendChild(el('div', { class: 'card', id: 'tokens-table' },
	    el('h2', {}, t('tokens')), table([
	    { label: '#', key: 'id' },
	    { label: t('role'), render: (x) => roleName(x.role) },
	    { label: t('created'), render: (k) => when(k.created) },
	    { label: t('expires'), render: (k) => k.expires ? when(k.expires) :
	      t('never') },
	    { label: t('state'), render: (k) => k.active ?
	      pill(t('active'), 'ok') : pill(k.revoked ? t('revoked') :
	      t('expired'), 'bad') },
	    { label: t('actions'), render: (k) => k.revoked ? '' :
	      el('button', { type: 'button', on: { click:
	        act('POST', `/api/v1/tokens/${k.id}/revoke`,
	        `#${k.id}: ${t('confirm_revoke_token')}`) } }, t('revoke')) },
	], (tlist.tokens || []).slice().reverse())));
}

A.registerPage('users', null, users, { group: 'settings', ownNote: true });

})();
