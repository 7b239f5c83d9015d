/*
 * notify.js - the dashboard's alert notification page (issue 21 part 6),
 * under settings: the brand's rules (which alert types, whom to tell by
 * e-mail, WeCom group robot and DingTalk robot, at once or as an hourly
 * or daily digest), with what each has sent; a new rule; a test message
 * on every channel of a rule, whose answers are shown per channel; a
 * digest sent now; removal after a confirmation in the page. Admin only,
 * as in the API (robot URLs carry the robot's key). The DingTalk secret
 * is written, never shown again (the API says only whether one is set).
 *
 * It keeps the rules of app.js (window.sigilAdmin): text only, the CSRF
 * token on every change (api()), errors by code in the page's language.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, pill, when,
    fmt, table, loading } = A;

const TYPES = ['counterfeit', 'too_many_scanners', 'impossible_travel',
    'diversion', 'rating_drop'];
const MODES = ['immediate', 'hourly', 'daily'];
const ZONES = [[480, 'UTC+8 北京/Beijing'], [0, 'UTC'], [540, 'UTC+9'],
    [420, 'UTC+7'], [60, 'UTC+1'], [-300, 'UTC-5'], [-480, 'UTC-8']];

Object.assign(A.TEXT.zh, {
	notify: '告警通知', nt_new: '新建通知规则', nt_name: '规则名称',
	nt_types: '告警类型', nt_ty_counterfeit: '假码扫描',
	nt_ty_too_many_scanners: '多人扫码（疑似克隆）',
	nt_ty_impossible_travel: '异常移动（疑似克隆）', nt_ty_diversion: '窜货',
	nt_ty_rating_drop: '评分下降',
	nt_emails: '邮件收件人（每行或逗号分隔一个地址）',
	nt_wecom: '企业微信群机器人 Webhook 地址',
	nt_ding: '钉钉自定义机器人 Webhook 地址', nt_ding_secret: '钉钉加签密钥（SEC 开头）',
	nt_ding_secret_set: '已设置加签密钥', nt_mode: '发送方式',
	nt_mode_immediate: '立即发送', nt_mode_hourly: '每小时摘要',
	nt_mode_daily: '每日摘要', nt_at: '每日发送时间', nt_zone: '时区',
	nt_create: '创建', nt_created: '已创建', nt_recipients: '通知对象',
	nt_sent: '已发送', nt_last: '最近', nt_test: '发送测试',
	nt_digest: '立即发送摘要', nt_digest_asked: '摘要将在几秒内发送（没有新告警时不发送）',
	nt_delete: '删除', nt_deleted: '已删除',
	nt_confirm_delete: '删除后此规则不再发送任何通知，且不能恢复。',
	nt_test_ok: '已送达', nt_test_fail: '失败', nt_test_results: '测试结果',
	nt_ch_smtp: '邮件', nt_ch_wecom: '企业微信', nt_ch_dingtalk: '钉钉',
	nt_none: '还没有通知规则。', nt_active: '启用', nt_paused: '已停用',
	nt_pause: '停用', nt_resume: '启用', nt_paused_done: '已停用',
	nt_resumed_done: '已启用',
	nt_admin_only: '只有管理员可以查看和管理告警通知（机器人地址含有密钥）。',
	nt_pick_type: '请至少选择一种告警类型。',
	nt_note: '邮件服务器由运维在启动参数中配置（--smtp）；机器人地址和密钥由品牌填写。',
	nt_err_invalid: '规则有误：请检查名称（1–64 字节）、至少一种告警类型、邮件地址（最多 20 个）、机器人地址（http:// 或 https://）和加签密钥，且至少填写一种通知对象。',
	nt_err_refused_target: '不允许推送到此机器人地址（本机、内网或保留地址）。',
	nt_status: '状态码',
	nt_err_not_found: '此规则已不存在。', nt_err_not_digest: '此规则为立即发送，没有摘要。',
	nt_err_load: '通知规则加载失败。',
});
Object.assign(A.TEXT.en, {
	notify: 'Alert notifications', nt_new: 'New notification rule',
	nt_name: 'Rule name', nt_types: 'Alert types',
	nt_ty_counterfeit: 'Counterfeit scans',
	nt_ty_too_many_scanners: 'Too many scanners (possible clone)',
	nt_ty_impossible_travel: 'Impossible travel (possible clone)',
	nt_ty_diversion: 'Diversion', nt_ty_rating_drop: 'Rating drop',
	nt_emails: 'E-mail recipients (one address per line or comma)',
	nt_wecom: 'WeCom group robot webhook URL',
	nt_ding: 'DingTalk custom robot webhook URL',
	nt_ding_secret: 'DingTalk signing secret (starts with SEC)',
	nt_ding_secret_set: 'signing secret set', nt_mode: 'When',
	nt_mode_immediate: 'At once', nt_mode_hourly: 'Hourly digest',
	nt_mode_daily: 'Daily digest', nt_at: 'Daily at', nt_zone: 'Time zone',
	nt_create: 'Create', nt_created: 'Created', nt_recipients: 'Who',
	nt_sent: 'Sent', nt_last: 'last', nt_test: 'Send a test',
	nt_digest: 'Send the digest now',
	nt_digest_asked: 'The digest goes out within seconds (nothing when ' +
	    'there is nothing new)',
	nt_delete: 'Delete', nt_deleted: 'Deleted',
	nt_confirm_delete: 'This rule sends nothing more. This cannot be undone.',
	nt_test_ok: 'delivered', nt_test_fail: 'failed',
	nt_test_results: 'Test results', nt_ch_smtp: 'E-mail',
	nt_ch_wecom: 'WeCom', nt_ch_dingtalk: 'DingTalk',
	nt_none: 'No notification rules yet.', nt_active: 'active',
	nt_paused: 'paused', nt_pause: 'Pause', nt_resume: 'Resume',
	nt_paused_done: 'Paused', nt_resumed_done: 'Resumed',
	nt_admin_only: 'Only an admin may see and manage alert notifications ' +
	    '(robot URLs carry a key).',
	nt_pick_type: 'Choose at least one alert type.',
	nt_note: 'The e-mail server is the operator\'s setting (--smtp); robot ' +
	    'URLs and secrets are the brand\'s.',
	nt_err_invalid: 'Check the rule: ',
	nt_err_refused_target: 'Robots may not point at this address ' +
	    '(loopback, private or reserved): ',
	nt_err_not_found: 'This rule no longer exists.',
	nt_err_not_digest: 'This rule sends at once; it has no digest.',
	nt_err_load: 'The notification rules could not be loaded.',
	nt_status: 'status',
});

function errText(e) {
	const key = 'nt_err_' + (e && e.code);
	if (!A.TEXT[A.lang()][key])
		return A.errText(e);
	/* invalid and refused_target: in English the server's sentence says
	 * which field; in Chinese our own (the server speaks English only) */
	return A.lang() === 'en' && (e.code === 'invalid' ||
	    e.code === 'refused_target') && e.message ? t(key) + e.message :
	    t(key);
}

function createForm(onCreated) {
	const name = el('input', { id: 'nt-name', required: true, maxlength: 64 });
	const boxes = TYPES.map((ty) => el('input', { type: 'checkbox',
	    class: 'nt-type', value: ty, checked: ty === 'counterfeit' }));
	const emails = el('textarea', { id: 'nt-emails',
	    placeholder: 'security@example.com' });
	const wecom = el('input', { id: 'nt-wecom', type: 'url', maxlength: 256,
	    placeholder: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…' });
	const ding = el('input', { id: 'nt-ding', type: 'url', maxlength: 256,
	    placeholder: 'https://oapi.dingtalk.com/robot/send?access_token=…' });
	const secret = el('input', { id: 'nt-ding-secret', type: 'password',
	    maxlength: 128, autocomplete: 'off' });
	const mode = el('select', { id: 'nt-mode' }, MODES.map((m) =>
	    el('option', { value: m }, t('nt_mode_' + m))));
	const at = el('input', { id: 'nt-at', type: 'time', value: '09:00' });
	const zone = el('select', { id: 'nt-zone' }, ZONES.map(([v, l]) =>
	    el('option', { value: v }, l)));
	const msg = el('div', { class: 'notice error', id: 'nt-msg',
	    hidden: true });
	const daily = el('div', { class: 'toolbar', id: 'nt-daily', hidden: true },
	    el('label', {}, t('nt_at'), at), el('label', {}, t('nt_zone'), zone));
	mode.addEventListener('change', () => {
		daily.hidden = mode.value !== 'daily';
	});
	const form = el('form', { class: 'stack', id: 'nt-form' },
	    el('label', { class: 'wide' }, t('nt_name'), name),
	    el('div', { class: 'lbl wide' }, t('nt_types'),
	    el('div', { class: 'toolbar' }, boxes.map((b) =>
	    el('label', { class: 'check' }, b, t('nt_ty_' + b.value))))),
	    el('label', { class: 'wide' }, t('nt_emails'), emails),
	    el('label', { class: 'wide' }, t('nt_wecom'), wecom),
	    el('label', { class: 'wide' }, t('nt_ding'), ding),
	    el('label', { class: 'wide' }, t('nt_ding_secret'), secret),
	    el('label', {}, t('nt_mode'), mode), daily,
	    el('p', { class: 'muted wide' }, t('nt_note')),
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    class: 'primary', id: 'nt-create' }, t('nt_create'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		const types = boxes.filter((b) => b.checked).map((b) => b.value);
		if (!types.length) {
			msg.textContent = t('nt_pick_type');
			msg.hidden = false;
			return;
		}
		const body = { name: name.value.trim(), types,
		    emails: emails.value.split(/[\s,;]+/).filter((s) => s),
		    mode: mode.value };
		if (wecom.value.trim())
			body.wecom_url = wecom.value.trim();
		if (ding.value.trim())
			body.dingtalk_url = ding.value.trim();
		if (secret.value)
			body.dingtalk_secret = secret.value;
		if (mode.value === 'daily') {
			body.at = at.value || '09:00';
			body.tz_offset = Number(zone.value);
		}
		try {
			await api('POST', '/api/v1/notify/rules', body);
			form.reset();
			daily.hidden = true;
			toast(t('nt_created'));
			onCreated();
		} catch (e) {
			msg.textContent = errText(e);
			msg.hidden = false;
		}
	});
	return el('div', { class: 'card' }, el('h2', {}, t('nt_new')), msg, form);
}

function recipients(r) {
	const out = [];
	if (r.emails.length)
		out.push(el('div', {}, `${t('nt_ch_smtp')}: ${r.emails.join(', ')}`));
	if (r.wecom_url)
		out.push(el('div', {}, t('nt_ch_wecom')));
	if (r.dingtalk_url)
		out.push(el('div', {}, t('nt_ch_dingtalk'),
		    r.dingtalk_secret_set ? ` (${t('nt_ding_secret_set')})` : ''));
	return out;
}

function modeText(r) {
	return r.mode === 'daily' ? `${t('nt_mode_daily')} ${r.at}` :
	    t('nt_mode_' + r.mode);
}

async function notifyPage(box) {
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('notify')))]);
	if (!can.admin()) {
		box.appendChild(el('div', { class: 'notice', id: 'nt-admin-only' },
		    t('nt_admin_only')));
		return;
	}
	const list = el('div', { class: 'card', id: 'nt-list' });
	const results = el('div', { class: 'card', id: 'nt-results',
	    hidden: true });
	const showResults = (r, res) => {
		append(clear(results), [el('h2', {}, `${t('nt_test_results')}: ` +
		    r.name), table([
		    { label: '', render: (x) => t('nt_ch_' + x.channel) },
		    { label: t('state'), render: (x) => x.ok ?
		      pill(t('nt_test_ok'), 'ok') : pill(t('nt_test_fail'), 'bad') },
		    { label: '', render: (x) => el('span', { class: 'sub' },
		      `${t('nt_status')} ${x.status}` + (A.lang() === 'en' ?
		      ` ${x.detail}` : '')) },
		], res)]);
		results.hidden = false;
	};
	const load = async () => {
		loading(list);
		let rules;
		try {
			rules = (await api('GET', '/api/v1/notify/rules')).rules || [];
		} catch (e) {
			append(clear(list), [el('div', { class: 'notice error' },
			    t('nt_err_load'), ' ', errText(e))]);
			return;
		}
		const test = async (r, btn) => {
			btn.disabled = true;
			try {
				const out = await api('POST', '/api/v1/notify/test',
				    { rule: r.id });
				showResults(r, out.results || []);
			} catch (e) {
				toast(errText(e), true);
			} finally {
				btn.disabled = false;
			}
		};
		const digest = async (r) => {
			try {
				await api('POST', `/api/v1/notify/rules/${r.id}/digest`);
				toast(t('nt_digest_asked'));
			} catch (e) {
				toast(errText(e), true);
			}
		};
		const toggle = async (r) => {
			try {
				await api('PUT', `/api/v1/notify/rules/${r.id}`,
				    { active: !r.active });
				toast(t(r.active ? 'nt_paused_done' : 'nt_resumed_done'));
			} catch (e) {
				toast(errText(e), true);
			}
			load();
		};
		const del = async (r) => {
			if (!await confirmBox(`${t('nt_delete')} ${r.name}`, el('p', {},
			    t('nt_confirm_delete'))))
				return;
			try {
				await api('DELETE', `/api/v1/notify/rules/${r.id}`);
				toast(t('nt_deleted'));
			} catch (e) {
				toast(errText(e), true);
			}
			load();
		};
		append(clear(list), [table([
		    { label: t('nt_name'), render: (r) => [el('strong', {}, r.name),
		      ' ', r.active ? pill(t('nt_active'), 'ok') :
		      pill(t('nt_paused'), '')] },
		    { label: t('nt_types'), render: (r) =>
		      r.types.map((ty) => t('nt_ty_' + ty)).join(' · ') },
		    { label: t('nt_recipients'), render: recipients },
		    { label: t('nt_mode'), render: modeText },
		    { label: t('nt_sent'), render: (r) => el('span', {},
		      fmt(r.sent), r.sent ? el('span', { class: 'sub' },
		      ` · ${t('nt_last')} ${when(r.last_sent)}`) : null) },
		    { label: t('actions'), render: (r) => {
		      const b = el('button', { type: 'button', class: 'nt-test' },
		          t('nt_test'));
		      b.addEventListener('click', () => test(r, b));
		      return [b, r.mode !== 'immediate' ? el('button', {
		          type: 'button', class: 'nt-digest',
		          on: { click: () => digest(r) } }, t('nt_digest')) : null,
		          el('button', { type: 'button', class: 'nt-toggle',
		          on: { click: () => toggle(r) } },
		          t(r.active ? 'nt_pause' : 'nt_resume')),
		          el('button', { type: 'button', class: 'danger nt-delete',
		          on: { click: () => del(r) } }, t('nt_delete'))];
		    } },
		], rules, t('nt_none'))]);
	};
	append(box, [createForm(load), results, list]);
	await load();
}

A.registerPage('notify', 'webhooks', notifyPage,
    { group: 'settings', ownNote: true });

})();
