/*
 * wechat.js - the dashboard's WeChat page (settings) and the customer
 * page's WeChat card (issue 20).
 *
 * The page reads GET /api/v1/wechat and saves with PUT: the official
 * account (AppID, AppSecret, whether to ask for nickname and avatar
 * after the customer's profile consent) and the mini-program (AppID,
 * AppSecret). A secret is never shown: the API answers only whether one
 * is set, and an empty secret field keeps it (the same AppID). Clearing
 * an AppID removes that app. Admin only, as in the API.
 *
 * The card (window.sigilPeople.customerBlocks) lists the customer's
 * WeChat identities as the customer JSON has them: kind, AppID, the
 * identifier masked, the nickname when the customer shared it.
 *
 * It keeps the rules of app.js (window.sigilAdmin): text only, the CSRF
 * token on every change (api()), errors by code in the page's language.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, when, loading } = A;

Object.assign(A.TEXT.zh, {
	wechat: '微信', wx_oa: '公众号（网页授权）', wx_mp: '小程序',
	wx_appid: 'AppID', wx_secret: 'AppSecret',
	wx_secret_set: '已设置（留空则保持不变）', wx_secret_none: '未设置',
	wx_userinfo: '征得顾客“个人资料”同意后，获取微信昵称和头像（snsapi_userinfo）',
	wx_save: '保存', wx_saved: '已保存',
	wx_note: '在微信中扫码时，顾客经公众号网页授权（snsapi_base，静默）识别，无需手机号。' +
	    'AppSecret 加密保存，不会在页面、日志、审计记录或导出中出现。',
	wx_clear_note: '清空 AppID 即停用该应用。',
	wx_admin_only: '只有管理员可以查看和修改微信设置。',
	wx_err_invalid: '请检查输入：AppID 为 wx 加 16 位十六进制字符，AppSecret 为 32 位字母或数字；新的 AppID 需要填写 AppSecret。',
	wx_err_appid_taken: '此 AppID 已被其他品牌使用。',
	wx_err_load: '微信设置加载失败。',
	wx_card: '微信身份', wx_kind_wechat_oa: '公众号 openid',
	wx_kind_wechat_mp: '小程序 openid', wx_kind_wechat_union: 'unionid',
	wx_nickname: '昵称', wx_bound: '绑定时间', wx_none: '没有微信身份。',
});
Object.assign(A.TEXT.en, {
	wechat: 'WeChat', wx_oa: 'Official account (web authorisation)',
	wx_mp: 'Mini-program', wx_appid: 'AppID', wx_secret: 'AppSecret',
	wx_secret_set: 'set (leave empty to keep it)', wx_secret_none: 'not set',
	wx_userinfo: 'Ask for the WeChat nickname and avatar (snsapi_userinfo) ' +
	    'once the customer agreed to share a profile',
	wx_save: 'Save', wx_saved: 'Saved',
	wx_note: 'A scan inside WeChat identifies the customer silently ' +
	    '(snsapi_base), without a phone number. AppSecrets are kept ' +
	    'encrypted and never appear in a page, log, audit entry or export.',
	wx_clear_note: 'Clear an AppID to stop using that app.',
	wx_admin_only: 'Only an admin may see and change the WeChat settings.',
	wx_err_invalid: 'Check the fields: an AppID is wx and 16 hex digits, ' +
	    'an AppSecret 32 letters or digits; a new AppID needs its AppSecret.',
	wx_err_appid_taken: 'Another brand uses this AppID.',
	wx_err_load: 'The WeChat settings could not be loaded.',
	wx_card: 'WeChat identities', wx_kind_wechat_oa: 'Official-account openid',
	wx_kind_wechat_mp: 'Mini-program openid', wx_kind_wechat_union: 'unionid',
	wx_nickname: 'Nickname', wx_bound: 'Bound', wx_none: 'No WeChat identity.',
});

function errText(e) {
	const key = 'wx_err_' + (e && e.code);
	return A.TEXT[A.lang()][key] ? t(key) : A.errText(e);
}

function appFields(prefix, cur) {
	const appid = el('input', { id: `wx-${prefix}-appid`, maxlength: 18,
	    autocomplete: 'off', placeholder: 'wx0123456789abcdef',
	    value: cur ? cur.appid : '' });
	const secret = el('input', { id: `wx-${prefix}-secret`, type: 'password',
	    maxlength: 32, autocomplete: 'new-password',
	    placeholder: cur && cur.secret_set ? t('wx_secret_set') :
	    t('wx_secret_none') });
	return { appid, secret, nodes: [
	    el('label', {}, t('wx_appid'), appid),
	    el('label', {}, t('wx_secret'), secret)] };
}

function appBody(f, extra) {
	const appid = f.appid.value.trim();
	if (!appid)
		return null;
	const o = Object.assign({ appid }, extra || {});
	if (f.secret.value)
		o.secret = f.secret.value;
	return o;
}

async function wechatPage(box) {
	if (!can.admin()) {
		append(box, [el('div', { class: 'notice' }, t('wx_admin_only'))]);
		return;
	}
	loading(box);
	let cfg;
	try {
		cfg = await api('GET', '/api/v1/wechat');
	} catch (e) {
		append(clear(box), [el('div', { class: 'notice error' },
		    t('wx_err_load'), ' ', errText(e))]);
		return;
	}
	const oa = appFields('oa', cfg.oa), mp = appFields('mp', cfg.mp);
	const userinfo = el('input', { type: 'checkbox', id: 'wx-userinfo',
	    checked: !!(cfg.oa && cfg.oa.userinfo) });
	const msg = el('div', { class: 'notice error', id: 'wx-msg',
	    hidden: true });
	const form = el('form', { class: 'stack', id: 'wx-form' },
	    el('h2', {}, t('wx_oa')), ...oa.nodes,
	    el('label', { class: 'check wide' }, userinfo, t('wx_userinfo')),
	    el('h2', {}, t('wx_mp')), ...mp.nodes,
	    el('p', { class: 'muted wide' }, t('wx_clear_note')), msg,
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    class: 'primary', id: 'wx-save' }, t('wx_save'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		try {
			await api('PUT', '/api/v1/wechat', {
				oa: appBody(oa, { userinfo: userinfo.checked }),
				mp: appBody(mp) });
			toast(t('wx_saved'));
			clear(box);
			await wechatPage(box);
		} catch (e) {
			msg.textContent = errText(e);
			msg.hidden = false;
		}
	});
	append(clear(box), [el('div', { class: 'card' },
	    el('p', { class: 'muted' }, t('wx_note')), form)]);
}

A.registerPage('wechat', 'webhooks', wechatPage,
    { group: 'settings', ownNote: true });

/* ---- the customer page's card ---- */

function identityCard(c) {
	const ids = c.identities || [];
	if (!ids.length && c.phone !== null)
		return null;
	const row = (i) => el('li', { class: 'wx-identity' },
	    el('strong', {}, t('wx_kind_' + i.kind)), ' ',
	    el('code', {}, i.masked), i.app ? el('span', { class: 'sub' },
	    ` ${i.app}`) : null, i.nickname ? el('span', {},
	    ` · ${t('wx_nickname')} `, el('bdi', {}, i.nickname)) : null,
	    el('span', { class: 'sub' }, ` · ${t('wx_bound')} ${when(i.bound_at)}`));
	return el('div', { class: 'card', id: 'customer-wechat' },
	    el('h2', {}, t('wx_card')), ids.length ? el('ul', {},
	    ids.map(row)) : el('p', { class: 'empty' }, t('wx_none')));
}

if (window.sigilPeople)
	window.sigilPeople.customerBlocks.push(identityCard);

})();
