/*
 * audit.js - the dashboard's audit trail (issue 19 item 5): who changed
 * what in the brand, newest first and paged by the server, from the brand
 * API, the dashboard and the sigil CLI. Each row: who (a dashboard user
 * by email, an API token, the CLI's Unix user), the role, what in words
 * with the raw action beside it, the target with a link to its page, the
 * before/after detail, when, and from where. Filters: who, what, from,
 * to; a CSV export of the same selection.
 *
 * Admins only (the API answers 403 to the rest, and the page says so
 * instead of asking). It keeps app.js's rules (its helpers through
 * window.sigilAdmin): server data reaches the page as text only, dates
 * are when() and numbers fmt(), a refusal is shown by its code in the
 * page's language, never the server's English.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, when, fmt } = A;

/* What each action is, in words (the raw name is shown beside it). */
const ACTIONS = {
	campaign_create: ['创建营销活动', 'Created a campaign'],
	campaign_update: ['修改营销活动', 'Changed a campaign'],
	campaign_pause: ['暂停营销活动', 'Paused a campaign'],
	campaign_resume: ['恢复营销活动', 'Resumed a campaign'],
	campaign_save: ['保存营销活动', 'Saved a campaign'],
	product_add: ['新增产品', 'Added a product'],
	product_update: ['修改产品', 'Changed a product'],
	product_create: ['新增产品', 'Added a product'],
	batch_new: ['新建批次', 'Created a batch'],
	batch_activate: ['激活批次', 'Activated a batch'],
	batch_revoke: ['作废批次', 'Revoked a batch'],
	batch_state: ['更改批次状态', 'Changed a batch\'s state'],
	mint: ['生成码文件', 'Minted code files'],
	brand_add: ['新建品牌', 'Created the brand'],
	key_new: ['新建签名密钥', 'Added a signing key'],
	key_revoke: ['作废签名密钥', 'Revoked a signing key'],
	user_add: ['新增控制台账户', 'Added a dashboard user'],
	user_disable: ['停用账户', 'Disabled a user'],
	user_enable: ['启用账户', 'Enabled a user'],
	user_remove: ['删除账户', 'Removed a user'],
	user_change: ['更改账户', 'Changed a user'],
	password_change: ['修改自己的密码', 'Changed their own password'],
	password_reset: ['重设密码', 'Reset a password'],
	token_new: ['新建 API 令牌', 'Created an API token'],
	token_revoke: ['作废 API 令牌', 'Revoked an API token'],
	brand_tiers: ['修改会员等级', 'Changed the member tiers'],
	customer_role: ['更改会员身份', 'Changed a customer\'s role'],
	customer_erase: ['删除会员个人信息', 'Erased a customer\'s data'],
	customer_merge: ['合并会员（同一人的微信与手机号）',
	    'Merged two customers (one person\'s WeChat and phone)'],
	customer_export: ['导出会员个人信息', 'Exported a customer\'s data'],
	customers_export: ['导出会员列表', 'Exported the customer list'],
	alert_status: ['更改告警状态', 'Changed an alert\'s status'],
	alert_clear: ['清除误报', 'Cleared a false alarm'],
	alert_revoke_code: ['作废告警中的码', 'Revoked an alert\'s code'],
	alert_revoke_batch: ['作废告警中的批次', 'Revoked an alert\'s batch'],
	distributor_add: ['新增经销商', 'Added a distributor'],
	ship: ['发货', 'Shipped'],
	shipment_receive: ['确认收货', 'Received a shipment'],
	aggregate: ['装箱', 'Packed codes'],
	disaggregate: ['拆箱', 'Unpacked codes'],
	webhook_add: ['新增 Webhook', 'Added a webhook'],
	webhook_del: ['删除 Webhook', 'Removed a webhook'],
	item_add: ['新增兑换商品', 'Added a catalog item'],
	order_fulfil: ['完成兑换订单', 'Fulfilled an order'],
	code_clear: ['清除码的仿冒标记', 'Cleared a code\'s flag'],
	code_pin_unlock: ['解锁暗码', 'Unlocked a code\'s PIN'],
	epcis_gcp: ['设置 GS1 厂商识别码', 'Set the GS1 company prefix'],
	link_add: ['新增 GS1 链接', 'Added a GS1 link'],
	link_put: ['修改 GS1 链接', 'Changed a GS1 link'],
	link_del: ['删除 GS1 链接', 'Removed a GS1 link'],
	redirect_add: ['新增跳转规则', 'Added a redirect rule'],
	redirect_update: ['修改跳转规则', 'Changed a redirect rule'],
	redirect_del: ['删除跳转规则', 'Removed a redirect rule'],
	content_put: ['修改落地页内容', 'Changed landing-page content'],
	content_del: ['删除落地页内容', 'Removed landing-page content'],
	image_put: ['上传图片', 'Uploaded an image'],
	image_del: ['删除图片', 'Removed an image'],
};

/* A target type's words and the page that shows it (if any). */
const TARGETS = {
	campaign: ['营销活动', 'campaign', () => '#/campaigns'],
	batch: ['批次', 'batch', () => '#/batches'],
	product: ['产品', 'product', (id) => '#/products?q=' +
	    encodeURIComponent(id)],
	item: ['兑换商品', 'catalog item', () => '#/catalog'],
	redirect: ['跳转规则', 'redirect rule', () => '#/editor'],
	link: ['GS1 链接', 'GS1 link', () => '#/editor'],
	content: ['落地页内容', 'page content', () => '#/editor'],
	image: ['图片', 'image', null],
	order: ['兑换订单', 'order', () => '#/orders'],
	user: ['账户', 'user', () => '#/users'],
	token: ['API 令牌', 'API token', () => '#/users'],
	alert: ['告警', 'alert', () => '#/alerts'],
	customer: ['会员', 'customer', (id) => '#/customers?id=' +
	    encodeURIComponent(id)],
	distributor: ['经销商', 'distributor', () => '#/distributors'],
	shipment: ['发货单', 'shipment', () => '#/shipments'],
	webhook: ['Webhook', 'webhook', () => '#/webhooks'],
	code: ['码', 'code', null],
	key: ['签名密钥', 'signing key', null],
	brand: ['品牌', 'brand', null],
	settings: ['设置', 'settings', null],
};

Object.assign(A.TEXT.zh, {
	audit: '操作记录',
	au_title: '操作记录（谁在何时改了什么）',
	au_who: '操作人', au_role: '角色', au_what: '操作', au_target: '对象',
	au_detail: '变更', au_when: '时间', au_where: '来源',
	au_all_actors: '全部操作人', au_kind_user: '控制台账户',
	au_kind_token: 'API 令牌', au_kind_cli: '命令行', au_kind_system: '系统',
	au_kind_customer: '会员',
	au_all_actions: '全部操作', au_from: '从', au_to: '到',
	au_all_users: '全部账户',
	au_apply: '筛选', au_reset: '清除筛选', au_export: '导出 CSV',
	au_more: '更早的记录', au_none: '没有符合条件的记录。',
	au_admin_only: '操作记录只有管理员可以查看。',
	au_cli_where: '服务器命令行', au_outcome_failed: '部分失败',
	au_id: '编号', au_actor_id: '操作人编号（可选）',
	au_err_bad_query: '筛选条件无效，请检查日期和操作人。',
	au_err_forbidden: '只有管理员可以查看操作记录。',
	au_role_admin: '管理员', au_role_operator: '操作员',
	au_role_analyst: '分析员', au_changed: '已修改',
	au_true: '是', au_false: '否',
});
Object.assign(A.TEXT.en, {
	audit: 'Audit trail',
	au_title: 'Audit trail (who changed what, when)',
	au_who: 'Who', au_role: 'Role', au_what: 'What', au_target: 'Target',
	au_detail: 'Change', au_when: 'When', au_where: 'From',
	au_all_actors: 'Everyone', au_kind_user: 'Dashboard user',
	au_kind_token: 'API token', au_kind_cli: 'Command line',
	au_kind_system: 'System', au_kind_customer: 'Customer',
	au_all_actions: 'All actions',
	au_all_users: 'All users',
	au_from: 'From', au_to: 'To', au_apply: 'Filter',
	au_reset: 'Clear filters', au_export: 'Export CSV',
	au_more: 'Older entries', au_none: 'No entries match.',
	au_admin_only: 'Only admins may read the audit trail.',
	au_cli_where: 'server command line', au_outcome_failed: 'partly failed',
	au_id: 'ID', au_actor_id: 'Actor ID (optional)',
	au_err_bad_query: 'A filter is not valid: check the dates and the ' +
	    'actor.',
	au_err_forbidden: 'Only admins may read the audit trail.',
	au_role_admin: 'admin', au_role_operator: 'operator',
	au_role_analyst: 'analyst', au_changed: 'changed',
	au_true: 'yes', au_false: 'no',
});

const zh = () => A.lang() === 'zh';

/* An error by its code, in the page's language (app.js's errText). */
function errorLine(e) {
	return A.errText(e, 'au_err_');
}

function roleText(r) {
	return r ? t('au_role_' + r) : '–';
}

/* Who: a user's email when the users list has it, else kind and id. */
function whoCell(e, emails) {
	const a = e.actor;
	if (a.kind === 'user')
		return [emails.get(a.id) || `${t('au_kind_user')} #${a.id}`,
		    el('span', { class: 'sub' }, `user:${a.id}`)];
	if (a.kind === 'token')
		return [`${t('au_kind_token')} #${a.id}`,
		    el('span', { class: 'sub' }, `token:${a.id}`)];
	if (a.kind === 'cli')
		return [`${t('au_kind_cli')} ${a.id}`,
		    el('span', { class: 'sub' }, `cli:${a.id}`)];
	return `${t('au_kind_' + a.kind)} ${a.id}`;
}

function whatCell(e) {
	const words = ACTIONS[e.action];
	return [words ? words[zh() ? 0 : 1] : e.action,
	    el('code', { class: 'sub raw-action' }, e.action),
	    e.outcome !== 'ok' ? el('span', { class: 'pill bad' },
	    `${t('au_outcome_failed')}: ${e.outcome}`) : null];
}

function targetCell(e) {
	if (!e.target)
		return '–';
	const d = TARGETS[e.target.type];
	const label = `${d ? d[zh() ? 0 : 1] : e.target.type} ` +
	    (/^\d+$/.test(e.target.id) ? '#' : '') + e.target.id;
	if (!d || !d[2] || !e.target.id)
		return label;
	return el('a', { href: d[2](e.target.id), class: 'target-link' }, label);
}

function valueText(v) {
	if (v === null || v === undefined)
		return '–';
	if (v === true)
		return t('au_true');
	if (v === false)
		return t('au_false');
	if (typeof v === 'number')
		return fmt(v);
	if (typeof v === 'object')
		return v.changed === true && Object.keys(v).length === 1 ?
		    t('au_changed') : JSON.stringify(v);
	/* An instant (a campaign's start): local time, as every date. */
	if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v))
		return when(v);
	return String(v);
}

/* {k: {before, after}} or {k: v}: one line each, "k: before → after". */
function detailLines(obj) {
	const out = [];
	for (const [k, v] of Object.entries(obj || {})) {
		if (v && typeof v === 'object' && !Array.isArray(v) &&
		    ('before' in v || 'after' in v) &&
		    Object.keys(v).every((x) => x === 'before' || x === 'after'))
			out.push(`${k}: ${'before' in v ? valueText(v.before) : '∅'}` +
			    ` → ${'after' in v ? valueText(v.after) : '∅'}`);
		else if (k === 'changes' && v && typeof v === 'object')
			out.push(...detailLines(v));
		else if (v !== null && v !== undefined)
			out.push(`${k}: ${valueText(v)}`);
	}
	return out;
}

function detailCell(e) {
	const lines = detailLines(e.detail);
	if (!lines.length)
		return '–';
	return el('div', { class: 'audit-detail' }, lines.slice(0, 8).map((l) =>
	    el('div', {}, l.length > 160 ? l.slice(0, 157) + '…' : l)));
}

function whereCell(e) {
	return e.ip || t('au_cli_where');
}

/* A local date (YYYY-MM-DD) as the instant its day starts or ends. */
function dayBound(value, end) {
	if (!/^\d{4}-\d{2}-\d{2}$/.test(value))
		return null;
	const [y, m, d] = value.split('-').map(Number);
	const t0 = new Date(y, m - 1, d + (end ? 1 : 0));
	return new Date(t0.getTime() - (end ? 1 : 0)).toISOString();
}

async function auditPage(box, params) {
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('au_title')))]);
	if (!can.admin()) {
		box.appendChild(el('div', { class: 'notice', id: 'audit-admin-only' },
		    t('au_admin_only')));
		return;
	}
	const kindSel = el('select', { id: 'audit-kind',
	    'aria-label': t('au_who') },
	    el('option', { value: '' }, t('au_all_actors')),
	    ['user', 'token', 'cli'].map((k) =>
	    el('option', { value: k }, t('au_kind_' + k))));
	const actorId = el('input', { id: 'audit-actor-id', type: 'text',
	    maxlength: '100', size: '8', placeholder: t('au_id'),
	    'aria-label': t('au_actor_id') });
	/* Dashboard users are picked by email (filled once the list came). */
	const userSel = el('select', { id: 'audit-user', hidden: true,
	    'aria-label': t('au_kind_user') },
	    el('option', { value: '' }, t('au_all_users')));
	const showActor = () => {
		userSel.hidden = kindSel.value !== 'user';
		actorId.hidden = kindSel.value === 'user';
	};
	const actionSel = el('select', { id: 'audit-action',
	    'aria-label': t('au_what') },
	    el('option', { value: '' }, t('au_all_actions')),
	    Object.keys(ACTIONS).filter((k) => k !== 'campaign_save' &&
	    k !== 'batch_state' && k !== 'user_change' && k !== 'product_create')
	    .map((k) => el('option', { value: k },
	    `${ACTIONS[k][zh() ? 0 : 1]} (${k})`)));
	const from = el('input', { id: 'audit-from', type: 'date',
	    'aria-label': t('au_from') });
	const to = el('input', { id: 'audit-to', type: 'date',
	    'aria-label': t('au_to') });
	const exportLink = el('a', { id: 'audit-export', class: 'button',
	    download: 'audit.csv', href: '/api/v1/audit/export.csv' },
	    t('au_export'));
	const reset = el('button', { type: 'button', id: 'audit-reset' },
	    t('au_reset'));
	for (const [k, input] of [['kind', kindSel], ['actor', actorId],
	    ['action', actionSel], ['from', from], ['to', to]])
		if (params && params.get(k))
			input.value = params.get(k);
	append(box, [el('div', { class: 'toolbar filters' },
	    el('label', {}, t('au_who'), ' ', kindSel), userSel, actorId,
	    el('label', {}, t('au_what'), ' ', actionSel),
	    el('label', {}, t('au_from'), ' ', from),
	    el('label', {}, t('au_to'), ' ', to), reset,
	    el('span', { class: 'spacer' }), exportLink)]);
	const body = el('div', { class: 'card', id: 'audit-body' });
	box.appendChild(body);

	/* Dashboard users by id, for names instead of numbers. */
	const emails = new Map();
	try {
		const u = await api('GET', '/api/v1/users');
		for (const x of u.users || [])
			emails.set(String(x.id), x.email);
	} catch (e) {
		/* Ids are shown instead. */
	}
	for (const [id, email] of emails)
		userSel.appendChild(el('option', { value: id }, email));
	if (params && params.get('kind') === 'user' && params.get('actor'))
		userSel.value = params.get('actor');
	showActor();

	const filters = () => {
		const q = new URLSearchParams();
		const id = kindSel.value === 'user' ? userSel.value :
		    actorId.value.trim();
		if (kindSel.value)
			q.set('actor', kindSel.value + (id ? ':' + id : ''));
		if (actionSel.value)
			q.set('action', actionSel.value);
		const since = dayBound(from.value, false);
		const until = dayBound(to.value, true);
		if (since)
			q.set('since', since);
		if (until)
			q.set('until', until);
		return q;
	};
	const cols = [
	    { label: t('au_when'), render: (e) => [when(e.at),
	      el('span', { class: 'sub' }, `#${e.seq}`)] },
	    { label: t('au_who'), render: (e) => whoCell(e, emails) },
	    { label: t('au_role'), render: (e) => roleText(e.role) },
	    { label: t('au_what'), render: whatCell },
	    { label: t('au_target'), render: targetCell },
	    { label: t('au_detail'), render: detailCell },
	    { label: t('au_where'), render: whereCell },
	];
	const list = A.pagedList(body, 'audit', cols, async (before) => {
		const q = filters();
		q.set('limit', '50');
		if (before)
			q.set('before', String(before));
		const r = await api('GET', '/api/v1/audit?' + q);
		return { rows: r.entries, next: r.next };
	}, { empty: t('au_none'), more: t('au_more'), fail: (box, e, again) =>
	    append(clear(box), [el('div', { class: 'notice error',
	    id: 'audit-error' }, errorLine(e), ' ', el('button', {
	    type: 'button', on: { click: again } }, t('retry')))]) });
	const load = () => {
		exportLink.href = '/api/v1/audit/export.csv' +
		    (filters().toString() ? '?' + filters() : '');
		return list.reload();
	};
	kindSel.addEventListener('change', showActor);
	for (const input of [kindSel, userSel, actionSel, from, to])
		input.addEventListener('change', load);
	actorId.addEventListener('change', load);
	reset.addEventListener('click', () => {
		kindSel.value = actionSel.value = from.value = to.value = '';
		actorId.value = userSel.value = '';
		showActor();
		load();
	});
	await load();
}

A.registerPage('audit', 'webhooks', auditPage, { group: 'settings',
    ownNote: true });

})();
