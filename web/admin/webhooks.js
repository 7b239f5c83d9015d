/*
 * webhooks.js - the dashboard's webhooks page (issue 19 item 5): the
 * brand's subscriptions with their delivery status (delivered, attempts,
 * last result, next try, from GET /api/v1/webhooks/{id}'s `delivery`),
 * a new one (URL and events; the signing secret the API answers is shown
 * this once, with a note that it cannot be shown again), and removal
 * after a confirmation in the page. Admin only, as in the API; other
 * roles are told so. The list is the server's pages (oldest first,
 * PAGE at a time, its `next` as `after`) behind a "more" button, so no
 * subscription is left out past the first page.
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

const EVENTS = ['scan', 'claim', 'customer'];
const PAGE = 100;

Object.assign(A.TEXT.zh, {
	webhooks: 'Webhook', wh_url: '接收地址（http:// 或 https://）',
	wh_events: '推送的事件', wh_ev_scan: '扫码', wh_ev_claim: '领奖',
	wh_ev_customer: '顾客', wh_new: '新建 Webhook', wh_create: '创建',
	wh_delivery: '投递状态', wh_delivered: '已投递', wh_attempts: '尝试',
	wh_next_try: '下次重试', wh_last_ok: '最近一次成功',
	wh_last_failed: '最近一次失败', wh_last_none: '尚未投递',
	wh_delete: '删除', wh_confirm_delete: '删除后不再向此地址推送任何事件，且不能恢复。',
	wh_deleted: '已删除', wh_created: '已创建',
	wh_secret: '签名密钥（只显示这一次，请立即复制保存）：',
	wh_secret_note: '接收方用此密钥校验每个请求的签名（见 docs/webhooks.md）。关闭后无法再次查看。',
	wh_refresh: '刷新状态', wh_none: '还没有 Webhook。',
	wh_admin_only: '只有管理员可以查看和管理 Webhook（地址中可能含有凭据）。',
	wh_pick_event: '请至少选择一种事件。',
	wh_err_invalid: '地址或事件有误：须为 http:// 或 https:// 开头、不超过 256 个字符的地址，且至少选择一种事件。',
	wh_err_refused_target: '不允许推送到此地址（本机、内网或保留地址）。',
	wh_err_not_found: '此 Webhook 已不存在。',
	wh_err_forbidden: '只有管理员可以管理 Webhook。',
	wh_err_rate_limited: '操作太频繁，请稍后再试。',
	wh_err_load: 'Webhook 列表加载失败。', wh_more: '加载更多',
});
Object.assign(A.TEXT.en, {
	webhooks: 'Webhooks', wh_url: 'Receiver URL (http:// or https://)',
	wh_events: 'Events to send', wh_ev_scan: 'Scans', wh_ev_claim: 'Claims',
	wh_ev_customer: 'Customers', wh_new: 'New webhook', wh_create: 'Create',
	wh_delivery: 'Delivery', wh_delivered: 'delivered',
	wh_attempts: 'attempts', wh_next_try: 'next try',
	wh_last_ok: 'last delivery succeeded', wh_last_failed: 'last delivery failed',
	wh_last_none: 'nothing sent yet', wh_delete: 'Delete',
	wh_confirm_delete: 'Nothing more is sent to this URL. This cannot be ' +
	    'undone.',
	wh_deleted: 'Deleted', wh_created: 'Created',
	wh_secret: 'Signing secret (shown this once; copy it now):',
	wh_secret_note: 'The receiver checks each request\'s signature with ' +
	    'it (see docs/webhooks.md). It cannot be shown again.',
	wh_refresh: 'Refresh status', wh_none: 'No webhooks yet.',
	wh_admin_only: 'Only an admin may see and manage webhooks (a URL may ' +
	    'carry a credential).',
	wh_pick_event: 'Choose at least one event.',
	wh_err_invalid: 'Check the URL and events: an http:// or https:// URL ' +
	    'of at most 256 characters, and at least one event.',
	wh_err_refused_target: 'Webhooks may not point at this address ' +
	    '(loopback, private or reserved).',
	wh_err_not_found: 'This webhook no longer exists.',
	wh_err_forbidden: 'Only an admin may manage webhooks.',
	wh_err_rate_limited: 'Too many requests; try again shortly.',
	wh_err_load: 'The webhooks could not be loaded.', wh_more: 'More',
});

function errText(e) {
	const key = 'wh_err_' + (e && e.code);
	return A.TEXT[A.lang()][key] ? t(key) : A.errText(e);
}

function delivery(w) {
	const d = w.delivery || {};
	const last = d.last_status === 'delivered' ? pill(t('wh_last_ok'), 'ok') :
	    d.last_status === 'failed' ? pill(t('wh_last_failed'), 'bad') :
	    pill(t('wh_last_none'), '');
	return [last, el('span', { class: 'sub' },
	    `${t('wh_delivered')} ${fmt(d.delivered || 0)} · ` +
	    `${t('wh_attempts')} ${fmt(d.attempts || 0)}` +
	    (d.next_try ? ` · ${t('wh_next_try')} ${when(d.next_try)}` : ''))];
}

function createForm(onCreated) {
	const url = el('input', { id: 'wh-url', type: 'url', required: true,
	    maxlength: 256, placeholder: 'https://crm.example.com/sigil' });
	const boxes = EVENTS.map((ev) => el('input', { type: 'checkbox',
	    class: 'wh-event', value: ev, checked: ev === 'scan' }));
	const msg = el('div', { class: 'notice error', id: 'wh-msg', hidden: true });
	const secret = el('div', { class: 'notice', id: 'wh-secret', hidden: true });
	const form = el('form', { class: 'stack', id: 'wh-form' },
	    el('label', { class: 'wide' }, t('wh_url'), url),
	    el('div', { class: 'lbl wide' }, t('wh_events'),
	    el('div', { class: 'toolbar' }, boxes.map((b) =>
	    el('label', { class: 'check' }, b, t('wh_ev_' + b.value))))),
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    class: 'primary', id: 'wh-create' }, t('wh_create'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		secret.hidden = true;
		const events = boxes.filter((b) => b.checked).map((b) => b.value);
		if (!events.length) {
			msg.textContent = t('wh_pick_event');
			msg.hidden = false;
			return;
		}
		try {
			const w = await api('POST', '/api/v1/webhooks',
			    { url: url.value.trim(), events });
			url.value = '';
			if (w.secret) {
				const field = el('input', { id: 'wh-secret-value',
				    value: w.secret, size: 70, 'aria-label': t('wh_secret') });
				field.readOnly = true;
				append(clear(secret), [el('strong', {}, t('wh_secret')), ' ',
				    field, el('p', { class: 'muted' }, t('wh_secret_note'))]);
				secret.hidden = false;
				field.select();
			}
			toast(t('wh_created'));
			onCreated();
		} catch (e) {
			msg.textContent = errText(e);
			msg.hidden = false;
		}
	});
	return el('div', { class: 'card' }, el('h2', {}, t('wh_new')), secret, msg,
	    form);
}

async function webhooksPage(box) {
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('webhooks')))]);
	if (!can.admin()) {
		box.appendChild(el('div', { class: 'notice', id: 'wh-admin-only' },
		    t('wh_admin_only')));
		return;
	}
	const list = el('div', { class: 'card', id: 'wh-list' });
	const refresh = el('button', { type: 'button', id: 'wh-refresh' },
	    t('wh_refresh'));
	const more = el('button', { type: 'button', id: 'wh-more' }, t('wh_more'));
	let rows = [], next = null;
	/* One page of the server's list after `after` (null: the first). */
	const page = async (after) => {
		const r = await api('GET', `/api/v1/webhooks?limit=${PAGE}` +
		    (after ? `&after=${after}` : ''));
		return [r.webhooks || [], r.next || null];
	};
	const load = async () => {
		loading(list);
		try {
			[rows, next] = await page(null);
		} catch (e) {
			append(clear(list), [el('div', { class: 'notice error' },
			    t('wh_err_load'), ' ', errText(e))]);
			return;
		}
		draw();
	};
	more.addEventListener('click', async () => {
		more.disabled = true;
		try {
			const [got, n] = await page(next);
			rows = rows.concat(got);
			next = n;
			draw();
		} catch (e) {
			toast(errText(e), true);
		} finally {
			more.disabled = false;
		}
	});
	const draw = () => {
		const del = async (w) => {
			if (!await confirmBox(`${t('wh_delete')} #${w.id}`, el('p', {},
			    `${w.url}: ${t('wh_confirm_delete')}`)))
				return;
			try {
				await api('DELETE', `/api/v1/webhooks/${w.id}`);
				toast(t('wh_deleted'));
			} catch (e) {
				toast(errText(e), true);
			}
			load();
		};
		append(clear(list), [el('div', { class: 'toolbar' },
		    el('span', { class: 'spacer' }), refresh), table([
		    { label: '#', key: 'id' },
		    { label: 'URL', render: (w) => el('code', {}, w.url) },
		    { label: t('wh_events'), render: (w) =>
		      w.events.map((e) => t('wh_ev_' + e)).join(' · ') },
		    { label: t('wh_delivery'), render: delivery },
		    { label: t('created'), render: (w) => when(w.created) },
		    { label: t('actions'), render: (w) => el('button', {
		      type: 'button', class: 'danger wh-delete',
		      on: { click: () => del(w) } }, t('wh_delete')) },
		], rows, t('wh_none')), next ? el('div', { class: 'actions' },
		    more) : null]);
	};
	refresh.addEventListener('click', load);
	append(box, [createForm(load), list]);
	await load();
}

A.registerPage('webhooks', 'users', webhooksPage,
    { group: 'settings', ownNote: true });

})();
