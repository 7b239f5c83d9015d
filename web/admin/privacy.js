/*
 * privacy.js - the dashboard's privacy settings (issue 20 items 4 and 5):
 * the brand's privacy notice (each publish is a new version, in zh-CN and
 * English, from POST /api/v1/privacy/notices; the versions kept are
 * listed), the profile fields the brand collects (PUT
 * /api/v1/privacy/settings), the consent ledger's CSV export; and, on the
 * customer view, a card with the customer's consents (current and
 * history) and profile (window.sigilPeople.customerBlocks).
 *
 * Changes are the admin's, as in the API; other roles read. It keeps the
 * rules of app.js (window.sigilAdmin): text only, the CSRF token on
 * every change (api()), errors by code in the page's language.
 */
'use strict';

(function () {

const A = window.sigilAdmin, P = window.sigilPeople;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, pill, when, table } = A;

const FIELDS = ['name', 'gender', 'birthday', 'city', 'store', 'tags'];

Object.assign(A.TEXT.zh, {
	privacy: '隐私与同意', pv_notice: '隐私说明', pv_current: '当前版本',
	pv_none: '尚未发布隐私说明：顾客登录时不会看到说明，也无需确认。',
	pv_zh: '中文说明', pv_en: '英文说明（English）', pv_publish: '发布为新版本',
	pv_published: '已发布新版本', pv_versions: '历史版本', pv_version: '版本',
	pv_created: '发布时间', pv_text: '内容',
	pv_publish_note: '发布后，顾客下次登录或同意时须确认新版本；已有的同意记录保留其当时的版本号。',
	pv_fields: '收集的个人资料', pv_fields_note: '只在顾客同意“个人资料”后保存；顾客撤回同意时资料即被删除。',
	pv_f_name: '姓名', pv_f_gender: '性别', pv_f_birthday: '生日', pv_f_city: '城市',
	pv_f_store: '常去门店', pv_f_tags: '兴趣标签', pv_save: '保存', pv_saved: '已保存',
	pv_export: '同意记录导出', pv_export_what: '全部顾客的同意与撤回记录（CSV）：顾客编号、时间、目的、授予或撤回、说明版本、渠道、语言。',
	pv_download: '下载 CSV', pv_admin_only: '只有管理员可以修改隐私设置和导出同意记录。',
	pv_consents: '同意记录', pv_purpose: '目的', pv_action: '操作', pv_channel: '渠道',
	pv_lang: '语言', pv_service: '服务', pv_marketing: '营销消息', pv_profile: '个人资料',
	pv_grant: '同意', pv_withdraw: '撤回', pv_granted: '已同意', pv_not: '未同意',
	pv_ch_page: '扫码页', pv_ch_member: '会员页', pv_ch_sms_login: '短信登录',
	pv_ch_wechat: '微信', pv_ch_miniprogram: '小程序', pv_no_consents: '尚无同意记录。',
	pv_no_profile: '未保存个人资料。', pv_g_female: '女', pv_g_male: '男', pv_g_other: '其他',
	pv_err_invalid: '内容有误：中英文说明均须填写（每种不超过 10000 字），不能含控制字符。',
	pv_err_load: '隐私设置加载失败。',
});
Object.assign(A.TEXT.en, {
	privacy: 'Privacy & consent', pv_notice: 'Privacy notice',
	pv_current: 'Current version',
	pv_none: 'No notice published yet: customers see none at login and ' +
	    'acknowledge none.',
	pv_zh: 'Notice in Chinese (中文)', pv_en: 'Notice in English',
	pv_publish: 'Publish as a new version', pv_published: 'New version published',
	pv_versions: 'Versions', pv_version: 'Version', pv_created: 'Published',
	pv_text: 'Text',
	pv_publish_note: 'Once published, customers acknowledge the new version ' +
	    'at their next login or consent; earlier consents keep the version ' +
	    'they answered.',
	pv_fields: 'Profile fields collected',
	pv_fields_note: 'Kept only once the customer consents to "profile"; ' +
	    'deleted when they withdraw it.',
	pv_f_name: 'Name', pv_f_gender: 'Gender', pv_f_birthday: 'Birthday',
	pv_f_city: 'City', pv_f_store: 'Usual store', pv_f_tags: 'Interests',
	pv_save: 'Save', pv_saved: 'Saved',
	pv_export: 'Consent export',
	pv_export_what: 'Every customer\'s grants and withdrawals (CSV): ' +
	    'customer, time, purpose, grant or withdraw, notice version, ' +
	    'channel, language.',
	pv_download: 'Download CSV',
	pv_admin_only: 'Only an admin may change the privacy settings and ' +
	    'export the consent records.',
	pv_consents: 'Consents', pv_purpose: 'Purpose', pv_action: 'Action',
	pv_channel: 'Channel', pv_lang: 'Language', pv_service: 'Service',
	pv_marketing: 'Marketing', pv_profile: 'Profile', pv_grant: 'grant',
	pv_withdraw: 'withdraw', pv_granted: 'granted', pv_not: 'not granted',
	pv_ch_page: 'scan page', pv_ch_member: 'member page',
	pv_ch_sms_login: 'SMS login', pv_ch_wechat: 'WeChat',
	pv_ch_miniprogram: 'mini-program', pv_no_consents: 'No consents yet.',
	pv_no_profile: 'No profile kept.', pv_g_female: 'female',
	pv_g_male: 'male', pv_g_other: 'other',
	pv_err_invalid: 'Check the notice: both languages are required (up to ' +
	    '10,000 characters each), without control characters.',
	pv_err_load: 'The privacy settings could not be loaded.',
});

function errText(e) {
	const key = 'pv_err_' + (e && e.code);
	return A.TEXT[A.lang()][key] ? t(key) : A.errText(e);
}

function noticeCard(doc, reload) {
	const cur = doc.notices.length ? doc.notices[doc.notices.length - 1] : null;
	const zh = el('textarea', { id: 'pv-zh', maxlength: '10000',
	    disabled: !can.admin() });
	const en = el('textarea', { id: 'pv-en', maxlength: '10000',
	    disabled: !can.admin() });
	zh.rows = en.rows = 8;
	zh.value = cur ? cur.texts['zh-CN'] : '';
	en.value = cur ? cur.texts.en : '';
	const msg = el('div', { class: 'notice error', id: 'pv-msg', hidden: true });
	const form = el('form', { class: 'stack', id: 'pv-form' },
	    el('label', { class: 'wide' }, t('pv_zh'), zh),
	    el('label', { class: 'wide' }, t('pv_en'), en),
	    el('p', { class: 'muted small wide' }, t('pv_publish_note')), msg,
	    can.admin() ? el('div', { class: 'actions' }, el('button', {
	    type: 'submit', class: 'primary', id: 'pv-publish' },
	    t('pv_publish'))) : null);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		try {
			await api('POST', '/api/v1/privacy/notices',
			    { texts: { 'zh-CN': zh.value, en: en.value } });
			toast(t('pv_published'));
			reload();
		} catch (e) {
			msg.textContent = errText(e);
			msg.hidden = false;
		}
	});
	const rows = doc.notices.slice().reverse();
	return el('div', { class: 'card', id: 'pv-notice' },
	    el('h2', {}, t('pv_notice')),
	    el('p', { id: 'pv-current' }, cur ? `${t('pv_current')}: ` +
	    `${cur.version} · ${when(cur.created)}` : t('pv_none')), form,
	    el('h2', {}, t('pv_versions')), table([
	    { label: t('pv_version'), key: 'version', num: true },
	    { label: t('pv_created'), render: (n) => when(n.created) },
	    { label: t('pv_text'), render: (n) => {
		    const s = n.texts[A.lang() === 'zh' ? 'zh-CN' : 'en'] || '';
		    return s.length > 60 ? s.slice(0, 60) + '…' : s;
	    } }], rows));
}

function fieldsCard(settings) {
	const boxes = FIELDS.map((f) => el('input', { type: 'checkbox',
	    class: 'pv-field', value: f, disabled: !can.admin(),
	    checked: settings.profile_fields.includes(f) }));
	const form = el('form', { class: 'stack', id: 'pv-fields-form' },
	    el('div', { class: 'toolbar wide' }, boxes.map((b) =>
	    el('label', { class: 'check' }, b, t('pv_f_' + b.value)))),
	    el('p', { class: 'muted small wide' }, t('pv_fields_note')),
	    can.admin() ? el('div', { class: 'actions' }, el('button', {
	    type: 'submit', class: 'primary', id: 'pv-fields-save' },
	    t('pv_save'))) : null);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		try {
			await api('PUT', '/api/v1/privacy/settings', {
			    profile_fields: boxes.filter((b) => b.checked)
			    .map((b) => b.value) });
			toast(t('pv_saved'));
		} catch (e) {
			toast(errText(e), true);
		}
	});
	return el('div', { class: 'card', id: 'pv-fields' },
	    el('h2', {}, t('pv_fields')), form);
}

function exportCard() {
	return el('div', { class: 'card', id: 'pv-export' },
	    el('h2', {}, t('pv_export')), el('p', { class: 'muted' },
	    t('pv_export_what')), can.admin() ? el('div', { class: 'actions' },
	    el('a', { class: 'button primary', id: 'pv-export-link',
	    href: '/api/v1/exports/consents?format=csv',
	    download: 'consents.csv' }, t('pv_download'))) :
	    el('div', { class: 'notice' }, t('pv_admin_only')));
}

async function privacyPage(box) {
	const load = async () => {
		const wait = el('div');
		A.loading(wait);
		append(clear(box), [el('h1', {}, t('privacy')), wait]);
		let notices, settings;
		try {
			[notices, settings] = await Promise.all([
			    api('GET', '/api/v1/privacy/notices'),
			    api('GET', '/api/v1/privacy/settings')]);
		} catch (e) {
			clear(box);
			append(box, [el('h1', {}, t('privacy')), el('div',
			    { class: 'notice error' }, t('pv_err_load'))]);
			return;
		}
		clear(box);
		append(box, [el('h1', {}, t('privacy')),
		    can.admin() ? null : el('div', { class: 'notice' },
		    t('pv_admin_only')), noticeCard(notices, load),
		    fieldsCard(settings), exportCard()]);
	};
	await load();
}

A.registerPage('privacy', 'webhooks', privacyPage,
    { group: 'settings', ownNote: true });

/* ---- the customer view's card: consents and profile ---- */

function purposeName(p) {
	return t('pv_' + p);
}

function profileRows(p) {
	const rows = [];
	for (const f of FIELDS) {
		if (p[f] === undefined)
			continue;
		let v = p[f];
		if (f === 'gender')
			v = t('pv_g_' + v);
		else if (f === 'tags')
			v = v.join(' · ');
		rows.push({ f: t('pv_f_' + f), v: String(v) });
	}
	return rows;
}

function consentBlock(c, base) {
	const wait = el('div');
	A.loading(wait);
	const card = el('div', { class: 'card', id: 'customer-consents' },
	    el('h2', {}, t('pv_consents')), wait);
	(async () => {
		let cons, prof;
		try {
			[cons, prof] = await Promise.all([api('GET', base +
			    '/consents'), api('GET', base + '/profile')]);
		} catch (e) {
			clear(card);
			append(card, [el('h2', {}, t('pv_consents')), el('div',
			    { class: 'notice error' }, errText(e))]);
			return;
		}
		clear(card);
		const cur = cons.current;
		append(card, [el('h2', {}, t('pv_consents')),
		    el('div', { class: 'toolbar', id: 'consent-current' },
		    ['service', 'marketing', 'profile'].map((p) =>
		    pill(`${purposeName(p)}: ${t(cur[p] ? 'pv_granted' : 'pv_not')}`,
		    cur[p] ? 'ok' : ''))),
		    table([
		    { label: t('cu_time'), render: (e) => when(e.at) },
		    { label: t('pv_purpose'), render: (e) => purposeName(e.purpose) },
		    { label: t('pv_action'), render: (e) => t('pv_' + e.action) },
		    { label: t('pv_version'), key: 'notice_version', num: true },
		    { label: t('pv_channel'), render: (e) => e.channel ?
		      t('pv_ch_' + e.channel) : '–' },
		    { label: t('pv_lang'), render: (e) => e.lang || '–' }],
		    cons.history.slice().reverse(), t('pv_no_consents')),
		    el('h2', {}, t('pv_profile')),
		    el('div', { id: 'customer-privacy-profile' }, table([
		    { label: t('pv_fields'), key: 'f' },
		    { label: t('pv_text'), key: 'v' }],
		    profileRows(prof.profile || {}), t('pv_no_profile')))]);
	})();
	return card;
}

if (P && P.customerBlocks)
	P.customerBlocks.push(consentBlock);

})();
