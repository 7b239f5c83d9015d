/*
 * messages.js - the dashboard's lifecycle messages (节日关怀, issue 21
 * part 3): the brand's messages with their delivery counts, a composer
 * (name, audience segment, channel, text with placeholders, a schedule
 * or a trigger, frequency cap, quiet hours, the WeChat template or the
 * webhook it needs), a dry run that shows the counts (audience,
 * consenting, capped, in quiet hours) and a preview of the first texts
 * without sending anything, each message's deliveries, and the WeChat
 * template replies to feedback use (messages/settings).
 *
 * It keeps the rules of app.js (window.sigilAdmin): text only, the CSRF
 * token on every change (api()), errors by code in the page's language
 * (the server's English message is shown only in English). Operators
 * and admins compose; every role reads.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, pill, when,
    fmt, table, loading } = A;

const CHANNELS = ['sms', 'wechat_template', 'wechat_subscribe', 'webhook',
    'auto'];
const TRIGGERS = ['birthday', 'points_expiring', 'no_scan', 'tier_reached'];
const HOLDERS = ['name', 'points', 'tier', 'expiring', 'brand'];

Object.assign(A.TEXT.zh, {
	messages: '消息', msg_new: '新建消息', msg_name: '名称',
	msg_audience: '受众', msg_everyone: '全部顾客', msg_channel: '渠道',
	msg_ch_sms: '短信', msg_ch_wechat_template: '公众号模板消息',
	msg_ch_wechat_subscribe: '小程序订阅消息', msg_ch_webhook: 'Webhook',
	msg_ch_auto: '自动（有微信用微信，否则短信）',
	msg_text: '内容', msg_holders: '插入：',
	msg_h_name: '姓名', msg_h_points: '积分', msg_h_tier: '等级',
	msg_h_expiring: '即将过期积分', msg_h_brand: '品牌',
	msg_when: '发送方式', msg_schedule: '定时发送', msg_trigger: '触发发送',
	msg_at: '发送时间', msg_tr_birthday: '生日当天',
	msg_tr_points_expiring: '积分将在 N 天内过期',
	msg_tr_no_scan: 'N 天未扫码', msg_tr_tier_reached: '达到等级',
	msg_days: '天数', msg_tier: '等级名称',
	msg_cap: '频次上限', msg_cap_days: '天内最多', msg_cap_max: '条',
	msg_cap_note: '每位顾客在这段时间内收到的营销消息总数（所有消息合计）。',
	msg_quiet: '免打扰时段（中国时间）', msg_quiet_from: '从',
	msg_quiet_to: '到', msg_quiet_note: '落在此时段内的消息延后到时段结束再发，不会丢弃。',
	msg_wechat: '微信模板', msg_template_id: '模板 ID',
	msg_field: '内容字段（如 thing1）', msg_page: '小程序页面（可选）',
	msg_thing_note: '订阅消息的 thing 字段最多 20 个字，超出会被微信拒绝。',
	msg_hook: 'Webhook 订阅编号',
	msg_dry: '试运行', msg_save: '保存并启用', msg_saved: '已保存',
	msg_dry_title: '试运行结果（未发送任何消息）',
	msg_c_audience: '受众人数', msg_c_due: '符合触发条件',
	msg_c_consenting: '同意接收营销消息', msg_c_capped: '超出频次上限',
	msg_c_quiet: '延后到免打扰结束', msg_c_send: '将发送',
	msg_preview: '预览', msg_customer: '顾客', msg_send_at: '发送时间',
	msg_consent_note: '只发给同意接收营销消息的顾客；未同意的顾客不会收到。',
	msg_list: '全部消息', msg_none: '还没有消息。',
	msg_runs: '已运行', msg_delivery: '投递', msg_sent: '已发送',
	msg_queued: '排队中', msg_failed: '失败', msg_sending: '发送中',
	msg_deliveries: '投递记录', msg_state: '状态', msg_attempts: '尝试次数',
	msg_status: '最近结果', msg_sent_at: '发送于', msg_delete: '删除',
	msg_confirm_delete: '删除后不再按此消息发送；已发送的记录保留。',
	msg_deleted: '已删除', msg_active: '启用', msg_paused: '已暂停',
	msg_pause: '暂停', msg_resume: '启用',
	msg_read_only: '只有运营或管理员可以新建和修改消息。',
	msg_err_load: '消息加载失败。',
	msg_err_invalid: '请检查填写的内容：名称、内容、发送方式、频次上限、免打扰时段或微信模板有误。',
	msg_err_busy: '服务器正在为其他请求统计顾客，请稍后再试。',
	msg_need_text: '请填写名称和内容。',
	msg_need_at: '请选择发送时间。',
	msg_svc: '回复消息的微信模板',
	msg_svc_note: '设置后，对顾客反馈的回复会通过微信（公众号模板消息或小程序订阅消息）发给有微信身份的顾客，其余顾客仍收到短信。留空则全部用短信。',
	msg_svc_save: '保存模板', msg_svc_saved: '模板已保存',
});
Object.assign(A.TEXT.en, {
	messages: 'Messages', msg_new: 'New message', msg_name: 'Name',
	msg_audience: 'Audience', msg_everyone: 'Every customer',
	msg_channel: 'Channel', msg_ch_sms: 'SMS',
	msg_ch_wechat_template: 'Official account template message',
	msg_ch_wechat_subscribe: 'Mini program subscribe message',
	msg_ch_webhook: 'Webhook',
	msg_ch_auto: 'Auto (WeChat when possible, else SMS)',
	msg_text: 'Text', msg_holders: 'Insert:',
	msg_h_name: 'name', msg_h_points: 'points', msg_h_tier: 'tier',
	msg_h_expiring: 'expiring points', msg_h_brand: 'brand',
	msg_when: 'When', msg_schedule: 'At a time', msg_trigger: 'On a trigger',
	msg_at: 'Send at', msg_tr_birthday: 'On the birthday',
	msg_tr_points_expiring: 'Points expire within N days',
	msg_tr_no_scan: 'No scan for N days', msg_tr_tier_reached: 'Tier reached',
	msg_days: 'Days', msg_tier: 'Tier name',
	msg_cap: 'Frequency cap', msg_cap_days: 'days: at most',
	msg_cap_max: 'messages',
	msg_cap_note: 'Marketing messages a customer gets in that time, all ' +
	    'messages together.',
	msg_quiet: 'Quiet hours (China time)', msg_quiet_from: 'from',
	msg_quiet_to: 'to', msg_quiet_note: 'A message due in quiet hours is ' +
	    'sent when they end, not dropped.',
	msg_wechat: 'WeChat template', msg_template_id: 'Template ID',
	msg_field: 'Text field (e.g. thing1)', msg_page: 'Mini program page ' +
	    '(optional)',
	msg_thing_note: 'A subscribe message\'s thing field holds at most 20 ' +
	    'characters; WeChat refuses more.',
	msg_hook: 'Webhook subscription id',
	msg_dry: 'Dry run', msg_save: 'Save and enable', msg_saved: 'Saved',
	msg_dry_title: 'Dry run (nothing was sent)',
	msg_c_audience: 'In the audience', msg_c_due: 'Trigger holds',
	msg_c_consenting: 'Marketing consent', msg_c_capped: 'Over the cap',
	msg_c_quiet: 'Deferred past quiet hours', msg_c_send: 'Would be sent',
	msg_preview: 'Preview', msg_customer: 'Customer', msg_send_at: 'Sent at',
	msg_consent_note: 'Only customers who agreed to marketing messages ' +
	    'get them.',
	msg_list: 'All messages', msg_none: 'No messages yet.',
	msg_runs: 'Runs', msg_delivery: 'Delivery', msg_sent: 'sent',
	msg_queued: 'queued', msg_failed: 'failed', msg_sending: 'sending',
	msg_deliveries: 'Deliveries', msg_state: 'State',
	msg_attempts: 'Attempts', msg_status: 'Last result',
	msg_sent_at: 'Sent at', msg_delete: 'Delete',
	msg_confirm_delete: 'Nothing more is sent for this message; what was ' +
	    'sent stays on record.',
	msg_deleted: 'Deleted', msg_active: 'Active', msg_paused: 'Paused',
	msg_pause: 'Pause', msg_resume: 'Enable',
	msg_read_only: 'Only an operator or an admin may create and change ' +
	    'messages.',
	msg_err_load: 'The messages could not be loaded.',
	msg_err_invalid: 'Check the form: the name, text, timing, cap, quiet ' +
	    'hours or WeChat template is not right.',
	msg_err_busy: 'The server is counting customers for other requests; ' +
	    'try again in a moment.',
	msg_need_text: 'Fill in the name and the text.',
	msg_need_at: 'Choose when to send.',
	msg_svc: 'WeChat template for replies',
	msg_svc_note: 'When set, replies to customers\' feedback go by WeChat ' +
	    '(an official account template message or a mini program ' +
	    'subscribe message) to customers with a WeChat identity; the ' +
	    'others still get an SMS. Empty: SMS for all.',
	msg_svc_save: 'Save template', msg_svc_saved: 'Template saved',
});

function errText(e) {
	if (e && e.status === 422 && A.lang() === 'zh')
		return t('msg_err_invalid');
	if (e && e.code === 'busy')
		return t('msg_err_busy');
	return A.errText(e);
}

function stateText(s) {
	return t('msg_' + s);
}

function timing(m) {
	if (m.schedule)
		return `${t('msg_schedule')} ${when(m.schedule.at)}`;
	const [k, v] = Object.entries(m.trigger || {})[0] || [];
	if (!k)
		return '–';
	return t('msg_tr_' + k) + (k === 'birthday' ? '' : ` (${v})`);
}

function delivery(m) {
	const d = m.delivery || {};
	return el('span', { class: 'sub' }, `${t('msg_sent')} ${fmt(d.sent)} · ` +
	    `${t('msg_queued')} ${fmt(d.queued)} · ${t('msg_failed')} ` +
	    `${fmt(d.failed)}`);
}

/* ---- the composer ---- */

function composer(segments, onSaved) {
	const name = el('input', { id: 'msg-name', maxlength: 100, required: true,
	    placeholder: '春节问候' });
	const audience = el('select', { id: 'msg-audience' },
	    el('option', { value: '0' }, t('msg_everyone')),
	    segments.map((s) => el('option', { value: String(s.id) }, s.name)));
	const channel = el('select', { id: 'msg-channel' }, CHANNELS.map((c) =>
	    el('option', { value: c }, t('msg_ch_' + c))));
	const text = el('textarea', { id: 'msg-text', maxlength: 500,
	    placeholder: '{name}您好，{brand}祝您新春快乐！您有{points}积分。' });
	const holders = el('div', { class: 'toolbar wide' }, t('msg_holders'),
	    HOLDERS.map((h) => el('button', { type: 'button', class: 'small',
	    on: { click: () => {
		const at = text.selectionStart || text.value.length;
		text.value = text.value.slice(0, at) + `{${h}}` +
		    text.value.slice(at);
		text.focus();
	    } } }, t('msg_h_' + h))));
	const kind = el('select', { id: 'msg-kind' },
	    el('option', { value: 'schedule' }, t('msg_schedule')),
	    el('option', { value: 'trigger' }, t('msg_trigger')));
	const at = el('input', { id: 'msg-at', type: 'datetime-local' });
	const trig = el('select', { id: 'msg-trigger' }, TRIGGERS.map((k) =>
	    el('option', { value: k }, t('msg_tr_' + k))));
	const days = el('input', { id: 'msg-days', type: 'number', min: 1,
	    max: 365, value: 7 });
	const tier = el('input', { id: 'msg-tier', maxlength: 32,
	    placeholder: 'Gold' });
	const capDays = el('input', { id: 'msg-cap-days', type: 'number', min: 1,
	    max: 365, placeholder: '7' });
	const capMax = el('input', { id: 'msg-cap-max', type: 'number', min: 1,
	    max: 100, placeholder: '1' });
	const qFrom = el('input', { id: 'msg-quiet-from', type: 'time' });
	const qTo = el('input', { id: 'msg-quiet-to', type: 'time' });
	const tpl = el('input', { id: 'msg-template', maxlength: 64 });
	const field = el('input', { id: 'msg-field', maxlength: 32,
	    value: 'thing1' });
	const page = el('input', { id: 'msg-page', maxlength: 128,
	    placeholder: 'pages/member/index' });
	const hook = el('input', { id: 'msg-hook', type: 'number', min: 1 });
	const wxBox = el('fieldset', { id: 'msg-wechat', class: 'wide' }, el('legend', {},
	    t('msg_wechat')), el('label', {}, t('msg_template_id'), tpl),
	    el('label', {}, t('msg_field'), field),
	    el('label', {}, t('msg_page'), page),
	    el('p', { class: 'muted small wide' }, t('msg_thing_note')));
	const hookBox = el('label', { id: 'msg-hook-box', class: 'wide' }, t('msg_hook'), hook);
	const schedBox = el('label', { id: 'msg-at-box' }, t('msg_at'), at);
	const trigBox = el('div', { id: 'msg-trigger-box', class: 'toolbar wide' },
	    trig, el('label', { id: 'msg-days-box' }, t('msg_days'), days),
	    el('label', { id: 'msg-tier-box' }, t('msg_tier'), tier));
	const msg = el('div', { class: 'notice error', id: 'msg-msg',
	    hidden: true });
	const result = el('div', { id: 'msg-dry', hidden: true });
	const shape = () => {
		const c = channel.value;
		wxBox.hidden = !(c.startsWith('wechat_') || c === 'auto');
		hookBox.hidden = c !== 'webhook';
		schedBox.hidden = kind.value !== 'schedule';
		trigBox.hidden = kind.value !== 'trigger';
		days.parentNode.hidden = !['points_expiring', 'no_scan']
		    .includes(trig.value);
		tier.parentNode.hidden = trig.value !== 'tier_reached';
	};
	for (const s of [channel, kind, trig])
		s.addEventListener('change', shape);
	const body = () => {
		const b = { name: name.value.trim(), channel: channel.value,
		    text: text.value, audience: Number(audience.value) };
		if (kind.value === 'schedule') {
			b.schedule = { at: at.value ?
			    new Date(at.value).toISOString() : '' };
		} else {
			const k = trig.value;
			b.trigger = { [k]: k === 'birthday' ? true :
			    k === 'tier_reached' ? tier.value.trim() :
			    Number(days.value) };
		}
		if (capDays.value || capMax.value)
			b.cap = { per_days: Number(capDays.value),
			    max: Number(capMax.value) };
		if (qFrom.value || qTo.value)
			b.quiet_hours = { from: qFrom.value, to: qTo.value };
		if (!wxBox.hidden && (tpl.value || channel.value !== 'auto')) {
			b.wechat = { template_id: tpl.value.trim(),
			    field: field.value.trim() };
			if (page.value.trim())
				b.wechat.page = page.value.trim();
		}
		if (channel.value === 'webhook')
			b.webhook = { subscription: Number(hook.value) };
		return b;
	};
	const problem = (b) => {
		if (!b.name || !b.text.trim())
			return t('msg_need_text');
		if (b.schedule && !b.schedule.at)
			return t('msg_need_at');
		return null;
	};
	const showDry = (r) => {
		const counts = [['audience', r.audience], ['due', r.due],
		    ['consenting', r.consenting], ['capped', r.capped],
		    ['quiet', r.quiet], ['send', r.would_send]];
		append(clear(result), [el('h3', {}, t('msg_dry_title')),
		    el('div', { class: 'kpis', id: 'msg-counts' }, counts.map(([k,
		    v]) => el('div', { class: 'kpi', id: 'msg-c-' + k },
		    el('div', { class: 'value' }, fmt(v)),
		    el('div', { class: 'label' }, t('msg_c_' + k))))),
		    el('p', { class: 'muted small wide' }, t('msg_consent_note')),
		    el('h3', {}, t('msg_preview')), el('div', { id: 'msg-preview' },
		    table([
			{ label: t('msg_customer'), render: (p) => `#${p.customer}` },
			{ label: t('msg_text'), render: (p) => el('span',
			  { class: 'msg-preview-text' }, p.text) },
			{ label: t('msg_send_at'), render: (p) => when(p.at) },
		    ], r.preview || [], t('msg_none')))]);
		result.hidden = false;
	};
	const go = async (dry) => {
		msg.hidden = true;
		const b = body();
		const bad = problem(b);
		if (bad) {
			msg.textContent = bad;
			msg.hidden = false;
			return;
		}
		try {
			if (dry) {
				showDry(await api('POST', '/api/v1/messages/dry-run',
				    b));
				return;
			}
			await api('POST', '/api/v1/messages', b);
			toast(t('msg_saved'));
			onSaved();
		} catch (e) {
			msg.textContent = errText(e);
			msg.hidden = false;
		}
	};
	const form = el('form', { class: 'stack', id: 'msg-form' },
	    el('label', { class: 'wide' }, t('msg_name'), name),
	    el('div', { class: 'toolbar wide' }, el('label', {}, t('msg_audience'),
	    audience), el('label', {}, t('msg_channel'), channel)),
	    el('label', { class: 'wide' }, t('msg_text'), text), holders,
	    el('div', { class: 'toolbar wide' }, el('label', {}, t('msg_when'), kind),
	    schedBox), trigBox,
	    el('div', { class: 'toolbar wide' }, t('msg_cap'), capDays,
	    t('msg_cap_days'), capMax, t('msg_cap_max')),
	    el('p', { class: 'muted small wide' }, t('msg_cap_note')),
	    el('div', { class: 'toolbar wide' }, t('msg_quiet'), t('msg_quiet_from'),
	    qFrom, t('msg_quiet_to'), qTo),
	    el('p', { class: 'muted small wide' }, t('msg_quiet_note')),
	    wxBox, hookBox,
	    el('div', { class: 'actions' },
	    el('button', { type: 'button', id: 'msg-dry-run',
	    on: { click: () => go(true) } }, t('msg_dry')),
	    el('button', { type: 'submit', class: 'primary', id: 'msg-save' },
	    t('msg_save'))));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		go(false);
	});
	shape();
	return el('div', { class: 'card' }, el('h2', {}, t('msg_new')), msg, form,
	    result);
}

/* ---- the service template (replies) ---- */

async function serviceCard() {
	let cur = null;
	try {
		cur = (await api('GET', '/api/v1/messages/settings')).service_wechat;
	} catch (e) {
		cur = null;
	}
	const tpl = el('input', { id: 'msg-svc-template', maxlength: 64,
	    value: cur ? cur.template_id : '' });
	const field = el('input', { id: 'msg-svc-field', maxlength: 32,
	    value: cur ? cur.field : 'keyword1' });
	const msg = el('div', { class: 'notice error', id: 'msg-svc-msg',
	    hidden: true });
	const form = el('form', { class: 'stack', id: 'msg-svc-form' },
	    el('label', {}, t('msg_template_id'), tpl),
	    el('label', {}, t('msg_field'), field),
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    id: 'msg-svc-save' }, t('msg_svc_save'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		const body = { service_wechat: tpl.value.trim() ? {
		    template_id: tpl.value.trim(), field: field.value.trim() } :
		    null };
		try {
			await api('PUT', '/api/v1/messages/settings', body);
			toast(t('msg_svc_saved'));
		} catch (e) {
			msg.textContent = errText(e);
			msg.hidden = false;
		}
	});
	return el('div', { class: 'card', id: 'msg-svc' }, el('h2', {},
	    t('msg_svc')), el('p', { class: 'muted small' }, t('msg_svc_note')),
	    msg, form);
}

/* ---- the list and the deliveries ---- */

async function deliveries(box, m) {
	loading(box);
	try {
		const r = await api('GET', `/api/v1/messages/${m.id}/deliveries` +
		    '?limit=200');
		append(clear(box), [el('h3', {}, `${t('msg_deliveries')} · ` +
		    m.name), table([
			{ label: '#', key: 'id' },
			{ label: t('msg_customer'), render: (d) => `#${d.customer}` },
			{ label: t('msg_channel'), render: (d) =>
			  t('msg_ch_' + d.channel) },
			{ label: t('msg_state'), render: (d) => pill(stateText(d.state),
			  d.state === 'sent' ? 'ok' : d.state === 'failed' ? 'bad' :
			  '') },
			{ label: t('msg_attempts'), key: 'attempts', num: true },
			{ label: t('msg_status'), render: (d) => d.last_status ?
			  String(d.last_status) : '–' },
			{ label: t('msg_sent_at'), render: (d) => d.sent_at ?
			  when(d.sent_at) : d.next_at ? when(d.next_at) : '–' },
		    ], r.deliveries || [], t('msg_none'))]);
	} catch (e) {
		append(clear(box), [el('div', { class: 'notice error' },
		    errText(e))]);
	}
}

async function messagesPage(box) {
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('messages')))]);
	const list = el('div', { class: 'card', id: 'msg-list' });
	const detail = el('div', { class: 'card', id: 'msg-detail', hidden: true });
	const load = async () => {
		loading(list);
		let rows;
		try {
			rows = (await api('GET', '/api/v1/messages')).messages || [];
		} catch (e) {
			append(clear(list), [el('div', { class: 'notice error' },
			    t('msg_err_load'), ' ', errText(e))]);
			return;
		}
		const del = async (m) => {
			if (!await confirmBox(`${t('msg_delete')} #${m.id}`,
			    el('p', {}, `${m.name}: ${t('msg_confirm_delete')}`)))
				return;
			try {
				await api('DELETE', `/api/v1/messages/${m.id}`);
				toast(t('msg_deleted'));
			} catch (e) {
				toast(errText(e), true);
			}
			load();
		};
		const toggle = async (m) => {
			const b = Object.fromEntries(Object.entries(m).filter(([k]) =>
			    ['name', 'audience', 'channel', 'text', 'schedule',
			    'trigger', 'cap', 'quiet_hours', 'wechat', 'webhook']
			    .includes(k)));
			b.active = !m.active;
			try {
				await api('PUT', `/api/v1/messages/${m.id}`, b);
			} catch (e) {
				toast(errText(e), true);
			}
			load();
		};
		append(clear(list), [el('h2', {}, t('msg_list')), table([
		    { label: '#', key: 'id' },
		    { label: t('msg_name'), render: (m) => el('a', { href: '#',
		      class: 'msg-open', on: { click: (ev) => {
			ev.preventDefault();
			detail.hidden = false;
			deliveries(detail, m);
		      } } }, m.name) },
		    { label: t('msg_channel'), render: (m) => t('msg_ch_' + m.channel) },
		    { label: t('msg_when'), render: timing },
		    { label: t('msg_audience'), render: (m) => m.audience ?
		      `#${m.audience}` : t('msg_everyone') },
		    { label: t('msg_delivery'), render: delivery },
		    { label: t('msg_runs'), render: (m) => fmt(m.runs), num: true },
		    { label: '', render: (m) => pill(m.active ? t('msg_active') :
		      t('msg_paused'), m.active ? 'ok' : '') },
		    { label: t('actions'), render: (m) => can.operate() ? [
		      el('button', { type: 'button', class: 'small msg-toggle',
		      on: { click: () => toggle(m) } },
		      m.active ? t('msg_pause') : t('msg_resume')),
		      el('button', { type: 'button', class: 'danger small msg-delete',
		      on: { click: () => del(m) } }, t('msg_delete'))] : '' },
		], rows, t('msg_none'))]);
	};
	let segments = [];
	try {
		segments = (await api('GET', '/api/v1/segments')).segments || [];
	} catch (e) {
		segments = [];	/* no saved segments (yet): every customer */
	}
	if (can.operate())
		box.appendChild(composer(segments, load));
	else
		box.appendChild(el('div', { class: 'notice', id: 'msg-read-only' },
		    t('msg_read_only')));
	append(box, [list, detail]);
	if (can.operate())
		box.appendChild(await serviceCard());
	await load();
}

A.registerPage('messages', 'campaigns', messagesPage,
    { group: 'marketing', ownNote: true });

})();
