/*
 * alerts.js - the dashboard's alert inbox (issue 19 item 3): what the
 * scans raised on the brand's codes, newest first and paged by the
 * server, one row per code and signal with how often and when it was
 * last seen, its status (new, acknowledged, resolved: by whom, when),
 * the product, lot and distributor by name, a link to the code's trace,
 * and what can be done about it: acknowledge, resolve, reopen, clear a
 * false clone flag on this one code, revoke this one code, or revoke the
 * code's batch (one alert's, or the batches of the selected alerts).
 *
 * It keeps the rules of app.js (whose helpers it uses through
 * window.sigilAdmin): server data reaches the page as text only, every
 * change sends the CSRF token (api()), change controls are drawn for
 * admins and operators only (the API refuses the rest anyway), every
 * confirmation is in the page.
 *
 * The geography page shows diversion alerts with the same columns:
 * window.sigilAlerts.table.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, pill, when,
    fmt, table, loading, failure } = A;

Object.assign(A.TEXT.zh, {
	al_status: '状态', al_status_open: '未解决（新告警与处理中）',
	al_status_all: '全部状态', al_new: '新告警', al_acknowledged: '处理中',
	al_resolved: '已解决', al_last_seen: '最近发现', al_first_seen: '首次发现',
	al_times: '次', al_code: '码', al_by_user: '用户', al_by_token: 'API 令牌',
	al_by_server: '再次出现，已重新打开', al_ack: '确认处理',
	al_resolve: '标记已解决', al_reopen: '重新打开', al_trace: '溯源',
	al_clear: '误报，清除标记', al_revoke_code: '作废此码',
	al_revoke_batch: '作废整批',
	al_more: '更早的告警', al_reason: '原因（必填，将记入记录）',
	al_confirm_clear: '此码的仿冒证据将被清除（原因记入此码的记录），告警标记为已解决。只影响这一个码。',
	al_confirm_revoke_code: '只作废这一个码：之后扫码显示“已作废”，不能领奖；同批次的其他码不受影响。此操作不可撤销。',
	al_confirm_revoke_batch: '整批作废：此批次中的所有码之后都会显示“已作废”，包括正品。此操作不可撤销。',
	al_done: '已处理', al_no_batch: '（批次未知）',
	al_outside: '越界', al_at: '位置',
	al_region: '地域', al_region_ip: '据 IP 推断，可信度低',
	rating_drop: '评分下降', payout_mismatch: '转账对账不符',
});
Object.assign(A.TEXT.en, {
	al_status: 'Status', al_status_open: 'Open (new and acknowledged)',
	al_status_all: 'All statuses', al_new: 'New',
	al_acknowledged: 'Acknowledged', al_resolved: 'Resolved',
	al_last_seen: 'Last seen', al_first_seen: 'First seen', al_times: '×',
	al_code: 'Code', al_by_user: 'user', al_by_token: 'API token',
	al_by_server: 'seen again, reopened', al_ack: 'Acknowledge',
	al_resolve: 'Resolve', al_reopen: 'Reopen', al_trace: 'Trace',
	al_clear: 'False alarm, clear',
	al_revoke_code: 'Revoke this code', al_revoke_batch: 'Revoke the batch',
	al_more: 'Older alerts',
	al_reason: 'Reason (required; kept on record)',
	al_confirm_clear: 'The clone evidence of this code is cleared (the ' +
	    'reason is kept in its history) and the alert resolved. Only ' +
	    'this one code is affected.',
	al_confirm_revoke_code: 'Only this code is revoked: every later scan ' +
	    'of it shows "revoked" and cannot claim; the other codes of its ' +
	    'batch are not affected. This cannot be undone.',
	al_confirm_revoke_batch: 'The whole batch is revoked: every code in ' +
	    'it will show "revoked" from now on, genuine ones included. This ' +
	    'cannot be undone.',
	al_done: 'Done', al_no_batch: '(batch unknown)',
	al_outside: 'outside by', al_at: 'at',
	al_region: 'region', al_region_ip: 'from the IP address, low confidence',
	rating_drop: 'Rating drop', payout_mismatch: 'Payout mismatch',
});

const TYPES = ['too_many_scanners', 'impossible_travel', 'diversion',
    'counterfeit', 'rating_drop', 'payout_mismatch'];
const STATUS_KIND = { new: 'bad', acknowledged: 'warn', resolved: 'ok' };

/* Who set the status, and when. */
function statusCell(a) {
	const who = a.status_by === null ? t('al_by_server') :
	    a.status_by.user !== undefined ? `${t('al_by_user')} #${a.status_by.user}` :
	    `${t('al_by_token')} #${a.status_by.token}`;
	return [pill(t('al_' + a.status), STATUS_KIND[a.status] || ''),
	    a.status_at ? el('span', { class: 'sub' }, `${who} · ${when(a.status_at)}`) :
	    null];
}

function productCell(a) {
	/* A forged code names no item: its alert counts the brand's fakes. */
	if (a.type === 'counterfeit')
		return '–';
	/* A product's ratings fell (issue 21): the product, no batch. */
	if (a.type === 'rating_drop')
		return a.product ? [a.product.name, el('span', { class: 'sub' },
		    a.product.sku)] : '–';
	if (!a.batch)
		return t('al_no_batch');
	return [a.product ? a.product.name : '–', el('span', { class: 'sub' },
	    `${a.product ? a.product.sku : ''} · ${t('lot')} ${a.batch.lot || '–'}` +
	    ` · #${a.batch.id}` + (a.batch.state === 'revoked' ?
	    ` · ${t('revoked')}` : ''))];
}

/* A region's name in the page's language: province and city (country
 * abroad), from the scan's address. */
function regionName(r) {
	if (!r)
		return '';
	const lang = A.lang() === 'zh' ? 'zh-CN' : 'en';
	const parts = [];
	if (r.country !== 'CN' && r.country_name)
		parts.push(r.country_name[lang]);
	if (r.province)
		parts.push(r.province[lang]);
	if (r.city && (!r.province || r.city[lang] !== r.province[lang]))
		parts.push(r.city[lang]);
	return parts.join(' ');
}

function evidence(a) {
	const parts = [];
	if (a.type === 'diversion')
		parts.push(`${t('distributor')} ${a.distributor_name ||
		    '#' + a.distributor}`, `${t('al_outside')} ${a.distance_km} km`);
	if (a.location)
		parts.push(`${t('al_at')} ${a.location.lat.toFixed(2)}, ` +
		    a.location.lng.toFixed(2));
	/* The provinces of the code's scans, else the alert's own scans'. */
	const regs = (a.scan_provinces && a.scan_provinces.length ?
	    a.scan_provinces.map((p) => regionName(p.region)) :
	    [regionName(a.region), regionName(a.last_region)])
	    .filter((x, i, l) => x && l.indexOf(x) === i);
	if (!regs.length)
		return parts.join(' · ') || '–';
	return [parts.join(' · '), el('span', { class: 'sub alert-region',
	    title: t('al_region_ip') }, `${t('al_region')} ${regs.join(' · ')}` +
	    ` (IP)`)];
}

function codeCell(a) {
	if (a.type === 'counterfeit' || a.type === 'rating_drop')
		return '–';
	const link = a.lookup ? el('a', { href: a.lookup.replace(/^\/admin\//, ''),
	    class: 'trace-link' }, t('al_trace')) : null;
	return [`#${a.serial}`, ' ', link];
}

/* The columns; actions(a) draws a row's buttons (operators only). */
function columns(selectable, selected, actions) {
	const cols = [];
	if (selectable)
		cols.push({ label: t('select'), render: (a) => el('input', {
		    type: 'checkbox', class: 'pick', 'aria-label': t('select'),
		    on: { change: (ev) => ev.target.checked ? selected.add(a) :
		    selected.delete(a) } }) });
	cols.push(
	    { label: t('al_last_seen'), render: (a) => [when(a.last_seen),
	      el('span', { class: 'sub' }, `${t('al_first_seen')} ${when(a.at)}`)] },
	    { label: t('type'), render: (a) => [pill(t(a.type), a.type ===
	      'diversion' ? 'warn' : 'bad'), a.count > 1 ?
	      el('span', { class: 'sub' }, `${fmt(a.count)} ${t('al_times')}`) :
	      null] },
	    { label: t('al_status'), render: statusCell },
	    { label: t('product'), render: productCell },
	    { label: t('al_code'), render: codeCell },
	    { label: t('evidence'), render: evidence });
	if (actions)
		cols.push({ label: t('actions'), render: actions });
	return cols;
}

/* A reason asked in the page; null when cancelled or left empty. */
async function askReason(title, note) {
	const reason = el('textarea', { id: 'reason-input', maxlength: '200',
	    'aria-label': t('al_reason'), placeholder: t('al_reason') });
	if (!await confirmBox(title, el('div', {}, el('p', {}, note), reason)))
		return null;
	const text = reason.value.trim();
	if (!text) {
		toast(t('reason_required'), true);
		return null;
	}
	return text;
}

async function loadAll(path) {
	const r = await api('GET', path);
	return r.batches || [];
}

async function alertsPage(box) {
	const typeSel = el('select', { id: 'alert-type', 'aria-label': t('type') },
	    el('option', { value: '' }, t('all_types')),
	    TYPES.map((k) => el('option', { value: k }, t(k))));
	const statusSel = el('select', { id: 'alert-status',
	    'aria-label': t('al_status') },
	    el('option', { value: 'new,acknowledged' }, t('al_status_open')),
	    ['new', 'acknowledged', 'resolved'].map((s) =>
	    el('option', { value: s }, t('al_' + s))),
	    el('option', { value: '' }, t('al_status_all')));
	const operate = can.operate();
	const selected = new Set();
	const revokeBtn = operate ? el('button', { type: 'button',
	    class: 'danger', id: 'revoke-selected' }, t('revoke_selected')) : null;
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('alerts')),
	    el('span', { class: 'spacer' }), typeSel, statusSel, revokeBtn)]);
	const body = el('div', { class: 'card' });
	box.appendChild(body);
	/* gen: a newer load (a filter changed) drops an older one's answer. */
	let rows = [], next = null, gen = 0;

	const act = async (a, path, payload, msg) => {
		try {
			await api(path.method, path.url, payload);
			toast(msg || t('al_done'));
			load();
		} catch (e) {
			toast(A.errText(e), true);
		}
	};
	const setStatus = (a, status) => act(a, { method: 'PATCH',
	    url: `/api/v1/alerts/${a.id}` }, { status });
	const action = async (a, kind) => {
		const what = `${a.product ? a.product.name : ''} · ${t('lot')} ` +
		    `${a.batch ? a.batch.lot || '–' : ''} · #${a.batch ? a.batch.id : ''}`;
		const reason = await askReason(t('al_' + kind), kind === 'clear' ?
		    t('al_confirm_clear') : `#${a.serial} · ${what}: ` +
		    t('al_confirm_' + kind));
		if (reason !== null)
			act(a, { method: 'POST', url: `/api/v1/alerts/${a.id}/actions` },
			    { action: kind, reason });
	};
	const actions = operate ? (a) => {
		const b = [];
		const btn = (label, fn, cls) => el('button', { type: 'button',
		    class: cls || null, on: { click: fn } }, label);
		if (a.status === 'new')
			b.push(btn(t('al_ack'), () => setStatus(a, 'acknowledged')));
		if (a.status !== 'resolved')
			b.push(btn(t('al_resolve'), () => setStatus(a, 'resolved')));
		else
			b.push(btn(t('al_reopen'), () => setStatus(a, 'new')));
		if (a.type !== 'diversion' && a.type !== 'counterfeit' &&
		    a.type !== 'rating_drop' && a.type !== 'payout_mismatch' &&
		    a.status !== 'resolved')
			b.push(btn(t('al_clear'), () => action(a, 'clear')));
		/* A payout mismatch is about money, not the code: see the
		 * payouts page; nothing to revoke. */
		if (a.batch && a.batch.state !== 'revoked' &&
		    a.type !== 'payout_mismatch') {
			if (a.status !== 'resolved')
				b.push(btn(t('al_revoke_code'), () =>
				    action(a, 'revoke_code'), 'danger'));
			b.push(btn(t('al_revoke_batch'), () => action(a, 'revoke_batch'),
			    'danger'));
		}
		return el('div', { class: 'row-actions' }, b);
	} : null;

	const draw = () => {
		const more = next !== null ? el('button', { type: 'button',
		    id: 'alerts-more', on: { click: () => page(next) } },
		    t('al_more')) : null;
		append(clear(body), [table(columns(operate, selected, actions),
		    rows), more]);
	};
	const query = (before) => {
		const q = new URLSearchParams({ limit: '50' });
		if (typeSel.value)
			q.set('type', typeSel.value);
		if (statusSel.value)
			q.set('status', statusSel.value);
		if (before)
			q.set('before', String(before));
		return '/api/v1/alerts?' + q;
	};
	const page = async (before) => {
		const mine = gen;
		try {
			const r = await api('GET', query(before));
			if (mine !== gen)
				return;
			rows = rows.concat(r.alerts);
			next = r.next;
			draw();
		} catch (e) {
			if (mine === gen)
				failure(body, e, load);
		}
	};
	const load = () => {
		gen++;
		selected.clear();
		rows = [];
		next = null;
		loading(body);
		return page(null);
	};
	typeSel.addEventListener('change', load);
	statusSel.addEventListener('change', load);
	if (revokeBtn)
		revokeBtn.addEventListener('click', async () => {
			if (!selected.size)
				return;
			let list;
			try {
				list = await loadAll('/api/v1/batches');
			} catch (e) {
				toast(A.errText(e), true);
				return;
			}
			const ids = new Map();
			for (const a of selected) {
				const b = a.batch && list.find((x) => x.id === a.batch.id);
				if (b && b.state !== 'revoked')
					ids.set(b.id, b);
			}
			if (!ids.size) {
				toast(t('none'));
				return;
			}
			const ok = await confirmBox(t('revoke_selected'), el('div', {},
			    el('p', {}, t('confirm_revoke')), el('ul', {},
			    [...ids.values()].map((b) => el('li', {},
			    `#${b.id} · ${b.sku} ${b.lot || ''} · ${fmt(b.count)}`)))));
			if (!ok)
				return;
			let done = 0;
			for (const id of ids.keys()) {
				try {
					await api('POST', `/api/v1/batches/${id}/revoke`, {});
					done++;
				} catch (e) {
					toast(A.errText(e), true);
				}
			}
			toast(t('revoked_n') + done);
			load();
		});
	await load();
}

window.sigilAlerts = Object.freeze({
	/* The inbox's columns, read-only, for other pages' alert lists. */
	table: (list) => table(columns(false), list),
});

A.registerPage('alerts', 'geo', alertsPage, { group: 'trace' });

})();
