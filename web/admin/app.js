/*
 * app.js - the sigil brand dashboard: a small single-page app over the
 * brand API (/api/v1/...), signed in by session cookie.
 *
 * Rules this file keeps:
 *  - Every value from the server reaches the page through textContent or
 *    createElement (el() below); innerHTML is never used.
 *  - Every request that changes something sends X-CSRF-Token.
 *  - Buttons that change something are only drawn for roles that may use
 *    them; the API enforces the same roles regardless.
 *  - No network beyond this origin; charts and maps are ECharts
 *    (vendor/, served by sigild; see map.js and overview.js).
 */
'use strict';

(function () {

/* ---- i18n ---- */

const TEXT = {
	zh: {
		title: 'sigil 品牌控制台', overview: '概览', campaigns: '营销活动',
		g_overview: '概览', g_marketing: '营销', g_trace: '防伪溯源',
		g_production: '生产', g_customers: '会员', g_settings: '设置',
		err_invalid: '此项无效', err_input: '输入有误，请检查后重试',
		err_not_found: '找不到该对象（可能已被删除）',
		err_forbidden: '当前角色不能执行此操作', err_csrf: '会话已过期，请刷新页面',
		err_conflict: '与已有数据冲突', err_too_large: '内容过大',
		err_rate_limited: '操作过于频繁，请稍后再试',
		err_unavailable: '服务器暂时不可用，请稍后再试',
		err_network: '无法连接服务器', err_other: '操作失败',
		geo: '地域', alerts: '告警', lookup: '码查询', customers: '会员',
		logout: '退出', login: '登录', email: '邮箱',
		password: '密码', login_title: '登录品牌控制台',
		bad_credentials: '邮箱或密码错误', busy: '登录请求较多，请稍后再试',
		rate_limited: '尝试过于频繁，请稍后再试', scans: '扫码次数',
		scanners: '独立扫码人', first_scans: '首次扫码', suspicious: '可疑',
		counterfeit: '假冒', diversion: '窜货', claims: '领奖次数',
		points: '积分', redemptions: '兑换', hour: '按小时', day: '按天',
		last_24h: '最近 24 小时', last_48h: '最近 48 小时', last_7d: '最近 7 天',
		last_30d: '最近 30 天', last_90d: '最近 90 天', last_365d: '最近一年',
		scans_over_time: '扫码趋势', claims_over_time: '领奖趋势',
		top_products: '产品排行', top_batches: '批次排行', product: '产品',
		sku: 'SKU', batch: '批次', lot: '批号',
		state: '状态', created: '创建时间', actions: '操作',
		new_campaign: '新建活动', edit: '编辑', pause: '暂停', resume: '恢复',
		save: '保存', cancel: '取消', name: '名称',
		skus: '产品 SKU（逗号分隔）', batch_ids: '批次号（逗号分隔）',
		starts: '开始日期', ends: '结束日期', points_per_claim: '每次积分',
		daily_cap: '每人每日上限（0 不限）', budget: '总预算积分（0 不限）',
		require_pin: '需要刮开密码', active: '进行中', paused: '已暂停',
		budget_used: '预算使用', results: '效果', not_available:
		'此功能的接口尚未上线（服务器返回 404）。上线后此页面将自动可用。',
		distributor: '经销商',
		distance: '越界距离', location: '位置', at: '时间', serial: '序列号',
		scan: '扫码', type: '类型', evidence: '证据',
		too_many_scanners: '扫码人过多', impossible_travel: '不可能的位移',
		revoke_selected: '作废所选告警所在批次', confirm: '确认',
		confirm_revoke: '以下批次将被作废，其中所有码之后都会显示“已作废”：',
		revoked_n: '已作废批次：', code: '码或链接', search: '查询',
		timeline: '溯源时间线', parents: '上级包装', children: '内含',
		shipment: '发货', scan_count: '扫码次数', first_scanned: '首次扫码',
		commissioning: '批次激活', packing: '装箱', unpacking: '拆箱',
		shipping: '发货', receiving: '收货', decommissioning: '批次作废',
		claim: '领奖', genuine: '正品', revoked: '已作废', inactive: '未激活',
		unverified: '未验证',
		phone: '手机号', tier: '等级', segment: 'RFM 分群', balance: '余额',
		points_12m: '12 个月积分', last_login: '最近登录',
		search_phone: '按手机号搜索', export_csv: '导出 CSV', export: '导出',
		erase: '删除个人数据', confirm_erase: '将永久删除此会员的手机号与设备关联（匿名统计保留）。',
		erased: '已删除', segments: '分群分布', tiers: '等级分布',
		cu_all_segments: '全部分群', cu_all_tiers: '全部等级',
		cu_all_roles: '全部身份', cu_filter_by: '只看：',
		create: '创建', revoke: '作废', expires: '有效期至',
		none: '无', loading: '加载中…', error: '出错了', retry: '重试',
		list_more: '加载更多', list_shown: '已显示', list_all_shown: '已全部显示',
		saved: '已保存', all_types: '全部类型', select: '选择',
		no_data: '暂无数据', roles_note: '当前角色只读：修改按钮已隐藏。',
		consumer: '消费者', retailer: '零售商', sales: '业务员',
		champions: '核心', loyal: '忠诚', promising: '潜力', new: '新客',
		at_risk: '流失风险', hibernating: '沉睡', more: '更多',
		bot: '机器人', first: '首扫', yes: '是', no: '否',
		lang_switch: 'EN', products: '产品', customer: '会员',
		device: '设备', accuracy: '精度', claims_total: '累计领奖',
		prizes_given: '已发奖品', budget_left: '剩余预算',
		role: '角色', disabled: '已停用',
	},
	en: {
		title: 'sigil brand dashboard', overview: 'Overview',
		g_overview: 'Overview', g_marketing: 'Marketing',
		g_trace: 'Trace & protect', g_production: 'Production',
		g_customers: 'Customers', g_settings: 'Settings',
		err_invalid: 'Not valid', err_input: 'Check what you entered',
		err_not_found: 'Not found (it may have been deleted)',
		err_forbidden: 'Your role may not do this',
		err_csrf: 'Your session has expired; reload the page',
		err_conflict: 'This conflicts with existing data',
		err_too_large: 'Too large',
		err_rate_limited: 'Too many requests; wait a moment',
		err_unavailable: 'The server is busy; try again shortly',
		err_network: 'The server cannot be reached',
		err_other: 'It did not work',
		campaigns: 'Campaigns', geo: 'Geography', alerts: 'Alerts',
		lookup: 'Code lookup', customers: 'Customers',
		logout: 'Log out', login: 'Log in', email: 'Email',
		password: 'Password', login_title: 'Sign in to the brand dashboard',
		bad_credentials: 'Wrong email or password',
		busy: 'Many sign-ins are being checked; try again in a moment',
		rate_limited: 'Too many attempts; wait a little', scans: 'Scans',
		scanners: 'Unique scanners', first_scans: 'First scans',
		suspicious: 'Suspicious', counterfeit: 'Counterfeit',
		diversion: 'Diversion', claims: 'Claims', points: 'Points',
		redemptions: 'Redemptions', hour: 'By hour', day: 'By day',
		last_24h: 'Last 24 hours', last_48h: 'Last 48 hours',
		last_7d: 'Last 7 days', last_30d: 'Last 30 days',
		last_90d: 'Last 90 days', last_365d: 'Last year',
		scans_over_time: 'Scans over time', claims_over_time: 'Claims over time',
		top_products: 'Top products', top_batches: 'Top batches',
		product: 'Product', sku: 'SKU', batch: 'Batch', lot: 'Lot',
		state: 'State', created: 'Created',
		actions: 'Actions', new_campaign: 'New campaign', edit: 'Edit',
		pause: 'Pause', resume: 'Resume', save: 'Save', cancel: 'Cancel',
		name: 'Name', skus: 'Product SKUs (comma-separated)',
		batch_ids: 'Batch ids (comma-separated)', starts: 'Starts',
		ends: 'Ends', points_per_claim: 'Points per claim',
		daily_cap: 'Daily cap per customer (0 = none)',
		budget: 'Total budget in points (0 = none)',
		require_pin: 'Hidden PIN required', active: 'Active',
		paused: 'Paused', budget_used: 'Budget used', results: 'Results',
		not_available: 'The API behind this page is not available yet ' +
		    '(the server answers 404). The page works as soon as it is.',
		distributor: 'Distributor',
		distance: 'Outside by', location: 'Location', at: 'Time',
		serial: 'Serial', scan: 'Scan', type: 'Type', evidence: 'Evidence',
		too_many_scanners: 'Too many scanners',
		impossible_travel: 'Impossible travel',
		revoke_selected: 'Revoke the batches of the selected alerts',
		confirm: 'Confirm',
		confirm_revoke: 'These batches will be revoked; every code in ' +
		    'them will show "revoked" from now on:',
		revoked_n: 'Batches revoked: ', code: 'Code or URL',
		search: 'Look up', timeline: 'Trace timeline', parents: 'Packed in',
		children: 'Holds', shipment: 'Shipment', scan_count: 'Scans',
		first_scanned: 'First scanned', commissioning: 'Batch activated',
		packing: 'Packed', unpacking: 'Unpacked', shipping: 'Shipped',
		receiving: 'Received', decommissioning: 'Batch revoked',
		claim: 'Claim', genuine: 'Genuine', revoked: 'Revoked',
		inactive: 'Inactive', unverified: 'Not verified', phone: 'Phone',
		tier: 'Tier',
		segment: 'RFM segment', balance: 'Balance',
		points_12m: 'Points (12 months)', last_login: 'Last login',
		search_phone: 'Search by phone', export_csv: 'Export CSV',
		export: 'Export', erase: 'Erase personal data',
		confirm_erase: 'This permanently erases the customer\'s phone ' +
		    'number and device links (anonymous counts stay).',
		erased: 'Erased', segments: 'Segments', tiers: 'Tiers',
		cu_all_segments: 'All segments', cu_all_tiers: 'All tiers',
		cu_all_roles: 'All roles', cu_filter_by: 'Show only: ',
		create: 'Create', revoke: 'Revoke',
		expires: 'Expires', none: 'none', loading: 'Loading…',
		error: 'Something went wrong', retry: 'Retry', saved: 'Saved',
		list_more: 'Load more', list_shown: 'Shown', list_all_shown: 'All shown',
		all_types: 'All types', select: 'Select', no_data: 'No data yet',
		roles_note: 'Your role is read-only: change buttons are hidden.',
		consumer: 'Consumer', retailer: 'Retailer', sales: 'Sales rep',
		champions: 'Champions', loyal: 'Loyal', promising: 'Promising',
		new: 'New', at_risk: 'At risk', hibernating: 'Hibernating',
		more: 'More', bot: 'bot', first: 'first', yes: 'yes', no: 'no',
		lang_switch: '中文', products: 'Products', customer: 'Customer',
		device: 'Device', accuracy: 'Accuracy', claims_total: 'Claims (all time)',
		prizes_given: 'Prizes given', budget_left: 'Budget left',
		role: 'Role', disabled: 'Disabled',
	},
};

let lang = localStorage.getItem('sigil.lang') ||
    ((navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en');
function t(key) {
	return (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;
}

/* ---- DOM helpers: text only ---- */

/*
 * Bidi controls (U+061C, U+200E/F, U+202A-E, U+2066-9) never reach the
 * page: the API refuses them in new names, and text stored before that
 * loses them here. Table cells are isolated (dir=auto), so right-to-left
 * text cannot reorder the cells or numbers around it.
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
function clean(s) {
	return String(s).replace(BIDI_CONTROLS, '');
}

const SAFE_ATTRS = new Set(['class', 'type', 'name', 'value', 'placeholder',
    'id', 'for', 'href', 'download', 'min', 'max', 'step', 'required',
    'autocomplete', 'role', 'aria-label', 'title', 'colspan', 'inputmode',
    'data-page', 'data-group', 'maxlength', 'minlength', 'size', 'dir',
    'spellcheck']);

function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k === 'on')
			for (const [ev, fn] of Object.entries(v))
				e.addEventListener(ev, fn);
		else if (k === 'checked' || k === 'disabled' || k === 'selected' ||
		    k === 'hidden')
			e[k] = !!v;
		else if (SAFE_ATTRS.has(k))
			e.setAttribute(k, v === true ? '' : String(v));
		else
			throw new Error('attribute not allowed: ' + k);
	}
	append(e, children);
	return e;
}

function append(e, children) {
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false)
			continue;
		e.appendChild(c instanceof Node ? c : document.createTextNode(clean(c)));
	}
	return e;
}

function clear(e) {
	while (e.firstChild)
		e.removeChild(e.firstChild);
	return e;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
	const e = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs || {}))
		if (v !== null && v !== undefined)
			e.setAttribute(k, String(v));
	for (const c of children.flat(Infinity))
		if (c !== null && c !== undefined)
			e.appendChild(c instanceof Node ? c :
			    document.createTextNode(clean(c)));
	return e;
}

function fmt(n) {
	return n === null || n === undefined ? '–' :
	    Number(n).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US');
}

/* ISO date and local time, "2026-12-07 14:05", in every language. */
function when(iso) {
	const d = new Date(iso);
	if (!iso || isNaN(d))
		return iso ? String(iso) : '–';
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
	    `${p(d.getHours())}:${p(d.getMinutes())}`;
}

function pill(text, kind) {
	return el('span', { class: 'pill ' + (kind || '') }, text);
}

function toast(msg, isError) {
	const box = document.getElementById('toast');
	box.textContent = clean(msg);
	box.className = 'toast' + (isError ? ' error' : '');
	box.hidden = false;
	clearTimeout(toast.timer);
	toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

/* An in-page confirmation (never window.confirm). Resolves true/false. */
function confirmBox(title, body) {
	const m = document.getElementById('modal');
	document.getElementById('modal-title').textContent = clean(title);
	append(clear(document.getElementById('modal-body')), [body]);
	const ok = document.getElementById('modal-ok');
	const cancel = document.getElementById('modal-cancel');
	ok.textContent = t('confirm');
	cancel.textContent = t('cancel');
	m.hidden = false;
	return new Promise((resolve) => {
		const done = (v) => {
			m.hidden = true;
			ok.onclick = cancel.onclick = null;
			resolve(v);
		};
		ok.onclick = () => done(true);
		cancel.onclick = () => done(false);
	});
}

/* ---- API ---- */

let me = null;	/* {user, brand, csrf} */

class ApiError extends Error {
	constructor(status, code, message) {
		super(message || code || ('HTTP ' + status));
		this.status = status;
		this.code = code;
	}
}

async function api(method, path, body) {
	const headers = { 'Accept': 'application/json' };
	if (method !== 'GET') {
		headers['X-CSRF-Token'] = me ? me.csrf : '';
		headers['Content-Type'] = 'application/json';
	}
	const r = await fetch(path, {
		method, headers, credentials: 'same-origin',
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	let doc = null;
	try {
		doc = await r.json();
	} catch (e) {
		doc = null;
	}
	if (!r.ok) {
		const err = doc && doc.error ? doc.error : {};
		if (r.status === 401 && path.startsWith('/api/')) {
			me = null;
			route();
		}
		/* field: which field a 422 is about, when the server says. */
		throw Object.assign(new ApiError(r.status, err.code, err.message),
		    { field: err.field });
	}
	return doc;
}

/*
 * An API error as a sentence in the dashboard's language: the page's own
 * text for its code (TEXT[prefix + code]) if there is one, else the
 * server's message in English, else one by status. A zh-CN page never
 * shows the server's English.
 */
function errText(err, prefix) {
	if (!(err instanceof ApiError))
		return t('err_network');
	if (prefix && TEXT.zh[prefix + err.code])
		return t(prefix + err.code);
	if (lang === 'en' && err.message)
		return err.message;
	const by = { 404: 'err_not_found', 403: err.code === 'csrf' ? 'err_csrf' :
	    'err_forbidden', 409: 'err_conflict', 413: 'err_too_large',
	    429: 'err_rate_limited', 503: 'err_unavailable',
	    400: 'err_input', 422: 'err_input' }[err.status];
	return t(by || 'err_other');
}

const can = {
	operate: () => me && (me.user.role === 'admin' || me.user.role === 'operator'),
	admin: () => me && me.user.role === 'admin',
};

/* ---- charts ---- */

const COLORS = ['var(--c1)', 'var(--c2)', 'var(--c3)', 'var(--c4)',
    'var(--c5)', 'var(--c6)'];

/* Horizontal bars for a small {label: count} table. */
function hbars(entries) {
	const W = 520, rowH = 26, L = 130;
	const max = Math.max(1, ...entries.map((e) => e[1]));
	const root = svg('svg', { viewBox: `0 0 ${W} ${entries.length * rowH + 4}`,
	    class: 'chart', role: 'img' });
	entries.forEach(([label, v], i) => {
		const y = i * rowH + 4;
		const w = (W - L - 60) * v / max;
		root.appendChild(svg('text', { x: L - 8, y: y + 15,
		    'text-anchor': 'end' }, label));
		root.appendChild(svg('rect', { x: L, y, width: Math.max(w, 1),
		    height: rowH - 8, rx: 3, fill: COLORS[i % COLORS.length] }));
		root.appendChild(svg('text', { x: L + w + 6, y: y + 15 }, fmt(v)));
	});
	return root;
}

/*
 * An ECharts chart c drawn in box follows the box's size, and is disposed
 * once the box has left the page (overview.js, feedback.js).
 */
function chartFollow(box, c) {
	if (window.ResizeObserver)
		new ResizeObserver(() => {
			if (box.isConnected)
				c.resize();
			else
				c.dispose();
		}).observe(box);
}

/* ---- page frame ---- */

const PAGES = ['lookup', 'customers'];
/*
 * The nav is two rows: the groups, then the pages of the group shown.
 * A page not in the nav (opts.hidden: a detail view) still belongs to a
 * group, which is then marked.
 */
const GROUPS = ['overview', 'marketing', 'trace', 'production',
    'customers', 'settings'];
const GROUP_OF = { lookup: 'trace', customers: 'customers' };
/*
 * Pages other files add (campaigns.js, alerts.js, editor.js) through
 * sigilAdmin.registerPage.
 */
const EXTRA = {};

function main() {
	return clear(document.getElementById('main'));
}

function loading(box) {
	append(clear(box), [el('p', { class: 'empty' }, t('loading'))]);
}

function failure(box, err, again) {
	if (err instanceof ApiError && err.status === 404 &&
	    err.code === 'not_found' && box.dataset.optional === '1') {
		append(clear(box), [el('div', { class: 'notice' },
		    t('not_available'))]);
		return;
	}
	append(clear(box), [el('div', { class: 'notice error' },
	    t('error') + ': ' + errText(err),
	    ' ', again ? el('button', { type: 'button', on: { click: again } },
	    t('retry')) : null)]);
}

/*
 * A list the server pages, drawn in box as a table of cols (or of
 * cols()): fetchPage(cursor) resolves to {rows, next, note}, cursor null
 * for the first page; the table grows with each "more" (#ID-more) until
 * next is null, so nothing silently stops at the first page, and
 * #ID-count says how many are shown. An answer that comes after a newer
 * reload is dropped. opts: empty (the empty list's line), more (the
 * button's label), fail(box, err, again) (failure() when not given).
 * Returns {reload, first(d) (draws a first page fetched elsewhere),
 * rows(), redraw}.
 */
function pagedList(box, id, cols, fetchPage, opts = {}) {
	let rows = [], next = null, note = null, gen = 0;
	const draw = () => {
		append(clear(box), [table(typeof cols === 'function' ? cols() : cols,
		    rows, opts.empty), el('p', { class: 'muted small',
		    id: id + '-count' }, `${t('list_shown')} ${fmt(rows.length)}`,
		    next === null ? ` · ${t('list_all_shown')}` : null,
		    note ? [' · ', note] : null,
		    next !== null ? [' ', el('button', { type: 'button',
		    id: id + '-more', on: { click: () => load(next) } },
		    opts.more || t('list_more'))] : null)]);
	};
	const take = (d, more) => {
		rows = (more ? rows : []).concat(d.rows);
		next = d.next === undefined ? null : d.next;
		note = d.note || null;
		draw();
	};
	const load = async (cursor) => {
		const more = cursor !== undefined && cursor !== null;
		const mine = more ? gen : ++gen;
		if (!more)
			loading(box);
		try {
			const d = await fetchPage(more ? cursor : null);
			if (mine === gen)
				take(d, more);
		} catch (e) {
			if (mine === gen)
				(opts.fail || failure)(box, e, () => load(cursor));
		}
	};
	return { reload: () => load(null), first: (d) => { gen++; take(d, false); },
		rows: () => rows, redraw: draw };
}

/*
 * A date range: two date inputs (attrs: each one's own, name, value...)
 * and the line saying when from is after to; ok() shows or hides that
 * line and says whether the range holds.
 */
function dateRange(fromAttrs, toAttrs, badText) {
	const from = el('input', Object.assign({ type: 'date' }, fromAttrs));
	const to = el('input', Object.assign({ type: 'date' }, toAttrs));
	const err = el('div', { class: 'field-error', role: 'alert', hidden: true });
	const ok = () => {
		const bad = !!(from.value && to.value && from.value > to.value);
		err.hidden = !bad;
		err.textContent = bad ? badText : '';
		return !bad;
	};
	return { from, to, err, ok };
}

function table(cols, rows, empty) {
	if (!rows.length)
		return el('p', { class: 'empty' }, empty || t('no_data'));
	return el('div', { class: 'table-wrap' }, el('table', {},
	    el('thead', {}, el('tr', {}, cols.map((c) =>
	    el('th', { class: c.num ? 'num' : null }, c.label)))),
	    el('tbody', {}, rows.map((r) => el('tr', {}, cols.map((c) =>
	    el('td', { class: c.num ? 'num' : null, dir: 'auto' },
	    c.render ? c.render(r) :
	    (c.num ? fmt(r[c.key]) : r[c.key] === null || r[c.key] === undefined ?
	    '–' : String(r[c.key])))))))));
}

function groupOf(page) {
	return GROUP_OF[page] || 'overview';
}

function navLink(page, text, active, data) {
	return el('a', Object.assign({ href: '#/' + page,
	    class: active ? 'active' : null }, data), text);
}

function renderNav(active) {
	const nav = document.getElementById('nav');
	const sub = document.getElementById('subnav');
	clear(nav);
	clear(sub);
	nav.hidden = sub.hidden = !me;
	if (!me)
		return;
	const shown = PAGES.filter((p) => !(EXTRA[p] && EXTRA[p].hidden));
	const group = groupOf(active);
	for (const g of GROUPS) {
		const pages = shown.filter((p) => groupOf(p) === g);
		if (pages.length)
			nav.appendChild(navLink(pages[0], t('g_' + g), g === group,
			    { 'data-group': g }));
	}
	const mine = shown.filter((p) => groupOf(p) === group);
	sub.hidden = mine.length < 2;
	for (const p of mine)
		sub.appendChild(navLink(p, t(p), p === active, { 'data-page': p }));
}

function renderHeader() {
	document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
	document.title = t('title');
	document.getElementById('lang').textContent = t('lang_switch');
	const out = document.getElementById('logout');
	out.textContent = t('logout');
	out.hidden = !me;
	document.getElementById('who').textContent = me ?
	    clean(`${me.user.email} · ${me.user.role}`) : '';
	document.getElementById('brand-name').textContent = me ?
	    clean(me.brand.name) : '';
}

function parseHash() {
	const h = location.hash.replace(/^#\/?/, '');
	const [page, query] = h.split('?');
	return { page: PAGES.includes(page) ? page : 'overview',
	    params: new URLSearchParams(query || '') };
}

/*
 * A page with unsaved work sets a guard (setLeaveGuard): route() asks it
 * before drawing anything else, and stays (false) when it says no.
 */
let leaveGuard = null;
let shownHash = location.hash;

function setLeaveGuard(fn) {
	leaveGuard = fn;
}

async function route() {
	if (leaveGuard && me && !await leaveGuard()) {
		if (location.hash !== shownHash)
			history.replaceState(null, '', shownHash || '#');
		return false;
	}
	leaveGuard = null;
	/* A toast belongs to the page it was said on. */
	if (location.hash !== shownHash)
		document.getElementById('toast').hidden = true;
	shownHash = location.hash;
	renderHeader();
	if (!me) {
		renderNav(null);
		loginPage();
		return;
	}
	const { page, params } = parseHash();
	renderNav(page);
	const box = main();
	const fn = { lookup, customers }[page] ||
	    EXTRA[page].fn;
	if (!can.operate() && page !== 'overview' &&
	    !(EXTRA[page] && EXTRA[page].ownNote))
		box.appendChild(el('div', { class: 'notice' }, t('roles_note')));
	await fn(box, params);
}

/* ---- login ---- */

function loginPage() {
	const box = main();
	const msg = el('div', { class: 'notice error', hidden: true });
	const email = el('input', { type: 'email', name: 'email', required: true,
	    autocomplete: 'username', id: 'login-email' });
	const pw = el('input', { type: 'password', name: 'password',
	    required: true, autocomplete: 'current-password',
	    id: 'login-password' });
	const form = el('form', { id: 'login-form' },
	    el('label', {}, t('email'), email),
	    el('label', {}, t('password'), pw),
	    el('button', { type: 'submit', class: 'primary' }, t('login')));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		try {
			me = await api('POST', '/admin/login',
			    { email: email.value, password: pw.value });
			pw.value = '';
			if (!location.hash)
				location.hash = '#/overview';
			route();
		} catch (e) {
			msg.textContent = e.code === 'bad_credentials' ?
			    t('bad_credentials') : e.code === 'busy' ? t('busy') :
			    e.code === 'rate_limited' ? t('rate_limited') : errText(e);
			msg.hidden = false;
		}
	});
	append(box, [el('div', { class: 'login card' },
	    el('h1', {}, t('login_title')), msg, form)]);
	email.focus();
}

/* ---- ranges of the stats API (the overview is overview.js) ---- */

function tzHours() {
	const m = -new Date().getTimezoneOffset();
	return m % 60 === 0 ? m / 60 : 0;
}

function rangeQuery(bucket, days) {
	const to = new Date();
	const from = new Date(to.getTime() - days * 86400000);
	const iso = (d) => d.toISOString().replace(/\.\d+Z$/, 'Z');
	const q = new URLSearchParams({ bucket, tz: String(tzHours()) });
	if (bucket === 'hour') {
		q.set('from', iso(new Date(Math.floor(from.getTime() / 3600000) * 3600000 + 3600000)));
		q.set('to', iso(new Date(Math.ceil(to.getTime() / 3600000) * 3600000)));
	} else {
		const d = new Date(to.getTime() - (days - 1) * 86400000);
		const local = (x) => `${x.getFullYear()}-${String(x.getMonth() + 1).padStart(2, '0')}-${String(x.getDate()).padStart(2, '0')}`;
		q.set('from', local(d));
		q.set('to', local(to));
	}
	return q.toString();
}

/* ---- code lookup ---- */

/* The brand's corrections on the lookup page (review F9, F10). */
Object.assign(TEXT.zh, {
	clear_flag: '清除可疑标记', pin_unlock: '解除 PIN 锁定',
	reason: '原因（必填，将记入此码的记录）',
	reason_required: '请填写原因', cleared: '已清除可疑标记',
	unlocked: '已解除 PIN 锁定', pin_state: '刮开 PIN',
	pin_wrong: '次错误', pin_locked: '已锁定',
	confirm_clear: '此码的仿冒证据（扫码人、网络、信号）将被清除，之后的扫码重新判断。',
	confirm_unlock: '此码的 PIN 错误次数将清零，持有正确 PIN 的顾客可以领奖。',
	note_clear: '清除可疑标记', note_pin_unlock: '解除 PIN 锁定',
	by_token: 'API 令牌', by_user: '用户', anonymous: '无 Cookie',
	signals: '仿冒信号', scanned_after_claim: '领奖后他人扫码',
});
Object.assign(TEXT.en, {
	clear_flag: 'Clear the suspicious flag', pin_unlock: 'Lift the PIN lock',
	reason: 'Reason (required; kept in this code\'s history)',
	reason_required: 'Please give a reason', cleared: 'Suspicious flag cleared',
	unlocked: 'PIN lock lifted', pin_state: 'Hidden PIN',
	pin_wrong: 'wrong', pin_locked: 'locked',
	confirm_clear: 'The clone evidence of this code (scanners, networks, ' +
	    'signals) is cleared; later scans are judged afresh.',
	confirm_unlock: 'The wrong PIN counts of this code go to zero, so the ' +
	    'customer holding the right PIN can claim.',
	note_clear: 'Suspicious flag cleared', note_pin_unlock: 'PIN lock lifted',
	by_token: 'API token', by_user: 'user', anonymous: 'no cookie',
	signals: 'Clone signals', scanned_after_claim: 'scanned after a claim',
});

/*
 * A correction with a required reason: asks in the modal, POSTs
 * {reason} to /api/v1/codes/{code}/{action}, reloads the page.
 */
async function correctCode(code, action, title, note) {
	const reason = el('textarea', { id: 'reason-input', maxlength: '200',
	    'aria-label': t('reason'), placeholder: t('reason') });
	const body = el('div', {}, el('p', {}, note), reason);
	if (!await confirmBox(title, body))
		return;
	const text = reason.value.trim();
	if (!text) {
		toast(t('reason_required'), true);
		return;
	}
	try {
		await api('POST', '/api/v1/codes/' + encodeURIComponent(code) +
		    '/' + action, { reason: text });
	} catch (e) {
		toast(errText(e), true);
		return;
	}
	toast(t(action === 'clear' ? 'cleared' : 'unlocked'));
	route();
}

/* The code part of what someone pasted: a compact URL's last segment. */
function codeOf(text) {
	const s = text.trim();
	const m = s.match(/\/[sS]\/([^/?#]+)/);
	return m ? m[1] : s;
}

async function lookup(box, params) {
	const input = el('input', { id: 'code-input', placeholder: t('code'),
	    size: 40, value: params.get('code') || '' });
	const form = el('form', { class: 'toolbar', id: 'lookup-form' },
	    el('h1', {}, t('lookup')), el('span', { class: 'spacer' }), input,
	    el('button', { type: 'submit', class: 'primary' }, t('search')));
	const body = el('div', {});
	append(box, [form, body]);
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		location.hash = '#/lookup?code=' + encodeURIComponent(codeOf(input.value));
	});
	const code = params.get('code');
	if (!code) {
		input.focus();
		return;
	}
	loading(body);
	let doc;
	try {
		doc = await api('GET', '/api/v1/codes/' + encodeURIComponent(codeOf(code)));
	} catch (e) {
		if (e.code === 'not_found' || e.code === 'bad_code')
			append(clear(body), [el('div', { class: 'notice error',
			    id: 'lookup-error' }, t('tr_err_' + e.code))]);
		else
			failure(body, e);
		return;
	}
	clear(body);
	const p = doc.product || {};
	const b = doc.batch || {};
	const facts = [
	    [t('product'), `${p.name || '–'} (${p.sku || b.sku || ''})`],
	    [t('serial'), String(doc.serial)],
	    [t('batch'), [`#${b.id}`, b.lot, t(b.state)].filter(Boolean).join(' · ')],
	    [t('scan_count'), fmt(doc.scan_count)],
	    [t('first_scanned'), when(doc.first_scanned_at)],
	    [t('suspicious'), doc.suspicious ? t('yes') : t('no')],
	    [t('signals'), (doc.signals || []).map((x) => t(x)).join(' · ') || t('none')],
	    [t('pin_state'), doc.pin ? `${fmt(doc.pin.wrong)} ${t('pin_wrong')}` +
	      (doc.pin.locked ? ` · ${t('pin_locked')}` : '') : t('none')],
	    ...window.sigilTrace.facts(doc),
	    [t('shipment'), doc.shipment ? `#${doc.shipment.id} · ` +
	      `${doc.shipment.distributor_name || '#' + doc.shipment.distributor} · ` +
	      when(doc.shipment.shipped_at) : t('none')],
	];
	const dl = el('dl', { class: 'facts', id: 'code-facts' });
	for (const [k, v] of facts)
		append(dl, [el('dt', {}, k), el('dd', {}, v)]);
	const items = await window.sigilTrace.timeline(doc);
	const fixes = el('div', { class: 'toolbar', id: 'code-actions' });
	const c = codeOf(code);
	if (can.operate() && (doc.suspicious || (doc.signals || []).length))
		append(fixes, [el('button', { type: 'button', id: 'clear-flag',
		    on: { click: () => correctCode(c, 'clear', t('clear_flag'),
		    t('confirm_clear')) } }, t('clear_flag'))]);
	if (can.operate() && doc.pin && doc.pin.locked)
		append(fixes, [el('button', { type: 'button', id: 'pin-unlock',
		    on: { click: () => correctCode(c, 'pin-unlock', t('pin_unlock'),
		    t('confirm_unlock')) } }, t('pin_unlock'))]);
	append(body, [el('div', { class: 'grid two' },
	    el('div', { class: 'card' }, el('h2', {}, doc.url || String(doc.serial)), dl,
	    fixes),
	    el('div', { class: 'card' }, el('h2', {}, t('timeline')),
	    items.length ? el('ol', { class: 'timeline', id: 'timeline' },
	    items.map((i) => el('li', { class: i.cls }, el('div', { class: 'when' },
	    when(i.at)), el('div', {}, i.text)))) :
	    el('p', { class: 'empty' }, t('no_data'))))]);
}

/* ---- customers ---- */

const SEGMENTS = ['champions', 'loyal', 'new', 'promising', 'at_risk',
    'hibernating'];

/* "+08:00": the browser's UTC offset now, as the exports take it. */
function tzOffset() {
	const m = -new Date().getTimezoneOffset(), a = Math.abs(m);
	return (m < 0 ? '-' : '+') + String(Math.floor(a / 60)).padStart(2, '0') +
	    ':' + String(a % 60).padStart(2, '0');
}

async function customers(box) {
	const phone = el('input', { id: 'phone-search', type: 'search',
	    inputmode: 'tel', placeholder: t('search_phone') });
	const pick = (id, all, opts) => el('select', { id, 'aria-label': all },
	    el('option', { value: '' }, all),
	    opts.map(([v, label]) => el('option', { value: v }, label)));
	const segSel = pick('filter-segment', t('cu_all_segments'),
	    SEGMENTS.map((k) => [k, t(k)]));
	const roleSel = pick('filter-role', t('cu_all_roles'),
	    ['consumer', 'retailer', 'sales'].map((k) => [k, t(k)]));
	let tierSel = pick('filter-tier', t('cu_all_tiers'), []);
	const form = el('form', { class: 'toolbar' }, el('h1', {}, t('customers')),
	    el('span', { class: 'spacer' }), segSel, tierSel, roleSel, phone,
	    el('button', { type: 'submit' }, t('search')));
	const exportBtn = el('button', { type: 'button', id: 'export-csv' },
	    t('export_csv'));
	form.appendChild(exportBtn);
	const summary = el('div', { class: 'grid two' });
	const body = el('div', { class: 'card' });
	body.dataset.optional = '1';
	append(box, [form, summary, body]);
	let rows = [], next = null, sum = null, gen = 0;
	/* Tiers for the select: the brand's settings (names as the list
	 * shows them). */
	api('GET', '/api/v1/settings').then((st) => {
		const sel = pick('filter-tier', t('cu_all_tiers'),
		    (st.tiers || []).map((x) => [x.name, x.name]));
		sel.value = tierSel.value;
		sel.addEventListener('change', () => load());
		tierSel.replaceWith(sel);
		tierSel = sel;
	}).catch(() => {});
	const filters = () => [['segment', segSel.value], ['tier', tierSel.value],
	    ['role', roleSel.value]].filter(([, v]) => v);
	/* How many the filter matches, when the summary says (one filter). */
	const expected = () => {
		const f = filters();
		if (!sum)
			return null;
		if (!f.length)
			return sum.total;
		if (f.length > 1)
			return null;
		const g = { segment: sum.segments, tier: sum.tiers, role: sum.roles }[f[0][0]];
		return g && g[f[0][1]] !== undefined ? g[f[0][1]] : 0;
	};
	/* A bar of a chart filters the list by what it counts. */
	const chart = (entries, sel, id) => {
		const c = hbars(entries.map(([, label, n]) => [label, n]));
		c.id = id;
		c.querySelectorAll('rect').forEach((r, i) => {
			r.style.cursor = 'pointer';
			r.dataset.key = entries[i][0];
			append(r, [svg('title', {}, t('cu_filter_by') + entries[i][1])]);
			r.addEventListener('click', () => {
				if (![...sel.options].some((o) => o.value === entries[i][0]))
					sel.appendChild(el('option', { value: entries[i][0] }, entries[i][0]));
				sel.value = entries[i][0];
				phone.value = '';
				load();
			});
		});
		return c;
	};
	const show = () => {
		const seg = SEGMENTS.filter((k) => sum && sum.segments[k] > 0)
		    .map((k) => [k, t(k), sum.segments[k]]);
		const tier = Object.entries(sum ? sum.tiers : {}).map(([k, n]) => [k, k, n]);
		append(clear(summary), [
		    el('div', { class: 'card' }, el('h2', {}, t('segments')),
		    seg.length ? chart(seg, segSel, 'segment-chart') : el('p', { class: 'empty' }, t('no_data'))),
		    el('div', { class: 'card' }, el('h2', {}, t('tiers')),
		    tier.length ? chart(tier, tierSel, 'tier-chart') : el('p', { class: 'empty' }, t('no_data')))]);
		const want = expected();
		append(clear(body), [table([
		    { label: '#', render: (c) => el('a', { href: '#/customer?id=' + c.id, class: 'customer-link' }, '#' + c.id) },
		    { label: t('phone'), render: (c) => c.erased ? pill(t('erased')) :
		      c.phone === null ? pill(t('wechat'), 'info') : c.phone },
		    { label: t('tier'), key: 'tier' },
		    { label: t('segment'), render: (c) => pill(t(c.segment), 'info') },
		    { label: t('balance'), key: 'balance', num: true },
		    { label: t('points_12m'), key: 'points_12m', num: true },
		    { label: t('claims'), key: 'claims', num: true },
		    { label: t('last_login'), render: (c) => when(c.last_login) },
		    { label: t('actions'), render: (c) => can.admin() && !c.erased ? [
		      el('button', { type: 'button', on: { click: async () => {
		        try {
		          const d = await api('GET', `/api/v1/customers/${c.id}/export`);
		          const blob = new Blob([JSON.stringify(d, null, 2)], { type: 'application/json' });
		          const a = el('a', { href: URL.createObjectURL(blob), download: `customer-${c.id}.json` });
		          document.body.appendChild(a); a.click(); a.remove();
		        } catch (e) { toast(errText(e), true); }
		      } } }, t('export')), ' ',
		      el('button', { type: 'button', class: 'danger', on: { click: async () => {
		        if (!await confirmBox(t('erase'), el('p', {}, `#${c.id} ${c.phone || ''}: ${t('confirm_erase')}`)))
		          return;
		        try {
		          await api('POST', `/api/v1/customers/${c.id}/erase`, {});
		          load();
		        } catch (e) { toast(errText(e), true); }
		      } } }, t('erase'))] : '' },
		], rows), el('p', { class: 'muted', id: 'customer-count' },
		    filters().length && !phone.value.trim() ? [el('span',
		    { id: 'filter-note' }, filters().map(([k, v]) =>
		    k === 'tier' ? v : t(v)).join(' · ')), ' '] : null,
		    want === null ? fmt(rows.length) : `${fmt(rows.length)} / ${fmt(want)}`,
		    next !== null ? [' ', el('button', { type: 'button',
		    id: 'more-customers', on: { click: () => load(next) } },
		    t('more'))] : null)]);
	};
	/* A filter that matches few may answer short pages (the server
	 * looks at 1,000 customers a request): go on until 100 are in. */
	const load = async (after) => {
		const my = ++gen;
		if (!after)
			loading(body);
		try {
			let got = after ? rows : [], cur = after || null, d;
			const f = filters().map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('');
			const s = after ? sum : api('GET', '/api/v1/customers/summary');
			for (let n = 0; ; n++) {
				const q = phone.value.trim() ? '?phone=' +
				    encodeURIComponent(phone.value.trim()) : '?limit=1000' + f +
				    (cur ? '&after=' + cur : '');
				d = await api('GET', '/api/v1/customers' + q);
				got = got.concat(d.customers || []);
				cur = d.next === undefined ? null : d.next;
				if (cur === null || got.length - (after ? rows.length : 0) >= 100 || n >= 30)
					break;
			}
			sum = await s;
			if (my !== gen)
				return;
			rows = got;
			next = cur;
			show();
		} catch (e) {
			if (my !== gen)
				return;
			clear(summary);
			failure(body, e, load);
		}
	};
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		load();
	});
	for (const s of [segSel, roleSel, tierSel])
		s.addEventListener('change', () => load());
	/* Every customer, streamed by the server (not the rows loaded): in
	 * Chinese in a Chinese dashboard, times in the browser's zone. */
	exportBtn.addEventListener('click', () => {
		const a = el('a', { href: '/api/v1/customers/export.csv?lang=' +
		    (lang === 'zh' ? 'zh' : 'en') + '&tz=' + encodeURIComponent(tzOffset()),
		    download: 'customers.csv' });
		document.body.appendChild(a);
		a.click();
		a.remove();
	});
	load();
}

/* ---- what other files of the dashboard use (editor.js) ---- */

/*
 * registerPage(name, after, fn, opts): a nav entry after the page named
 * `after` (null: the first), in opts.group (one of GROUPS); opts.ownNote:
 * the page says itself what the role may not do; opts.hidden: routable
 * (#/name?...) but not in the nav, a detail view.
 */
function registerPage(name, after, fn, opts) {
	if (PAGES.includes(name))
		return;
	const i = after === null ? -1 : PAGES.indexOf(after);
	PAGES.splice(after === null ? 0 : i < 0 ? PAGES.length : i + 1, 0, name);
	EXTRA[name] = { fn, ownNote: !!(opts && opts.ownNote),
	    hidden: !!(opts && opts.hidden) };
	if (opts && GROUPS.includes(opts.group))
		GROUP_OF[name] = opts.group;
}

window.sigilAdmin = Object.freeze({
	TEXT, t, el, append, clear, clean, pill, toast, confirmBox, api,
	ApiError, can, loading, failure, table, pagedList, dateRange, when, fmt,
	registerPage, errText, rangeQuery, svg, chartFollow,
	setLeaveGuard, lang: () => lang, me: () => me, route,
});

/* ---- start ---- */

document.getElementById('lang').addEventListener('click', async () => {
	const was = lang;
	lang = lang === 'zh' ? 'en' : 'zh';
	if (await route() === false)
		lang = was;
	else
		localStorage.setItem('sigil.lang', lang);
	renderHeader();
});
document.getElementById('logout').addEventListener('click', async () => {
	try {
		await api('POST', '/admin/logout', {});
	} catch (e) {
		/* The session is gone either way. */
	}
	me = null;
	location.hash = '';
	route();
});
window.addEventListener('hashchange', route);

/* After the other deferred scripts (editor.js) have registered. */
document.addEventListener('DOMContentLoaded', async function start() {
	try {
		me = await api('GET', '/admin/me');
	} catch (e) {
		me = null;
	}
	route();
});

})();
