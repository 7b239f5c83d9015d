/*
 * segments.js - the dashboard's customer segment builder (issue 21 item
 * 1): criteria over tier, RFM segment, staff role, points, consent,
 * profile (gender, birth month, tags), region (province, city, country
 * of the latest scan; the profile's city), products scanned or claimed,
 * campaigns claimed and the last scan's date, with the number of
 * matching customers counted by the server as the criteria change
 * (POST /api/v1/segments/count, at most one request in flight, the
 * latest answer shown); saved segments (GET/POST/PUT/DELETE
 * /api/v1/segments) and their members' CSV export (admin).
 *
 * It keeps the rules of app.js (window.sigilAdmin): text only, the CSRF
 * token on every change (api()), errors by code in the page's language.
 * The criteria are checked here first, so the server's English never
 * reaches a Chinese page.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, fmt, loading,
    failure, table } = A;

const RFM = ['champions', 'loyal', 'new', 'promising', 'at_risk',
    'hibernating'];
const ROLES = ['consumer', 'retailer', 'sales'];
const PURPOSES = ['marketing', 'service', 'profile'];
const GENDERS = ['female', 'male', 'other'];
const COUNT_DELAY_MS = 300;
const LIST_MAX = 100, TEXT_MAX = 200, NAME_MAX = 100;

Object.assign(A.TEXT.zh, {
	segments: '客户分群',
	sg_intro: '按等级、价值分群、地区、资料、扫码和领奖行为、积分和授权圈选客户。' +
	    '每项条件内多选为“或”，各项条件之间为“且”；不选即不限。人数由服务器实时统计。',
	sg_builder: '分群条件', sg_saved: '已保存的分群',
	sg_name: '分群名称', sg_tier: '会员等级', sg_rfm: '价值分群（RFM）',
	sg_role: '身份', sg_points_min: '积分余额不少于', sg_points_max: '积分余额不超过',
	sg_consent: '已授权（任一）', sg_gender: '性别', sg_months: '生日月份',
	sg_tags: '标签（任一，逗号分隔）', sg_province: '省份（最近扫码地，逗号分隔）',
	sg_city: '城市（最近扫码地或资料城市，逗号分隔）',
	sg_country: '国家或地区（代码如 CN，逗号分隔）',
	sg_scanned: '扫过的产品', sg_claimed: '领过奖的产品',
	sg_campaigns: '参与过的活动', sg_after: '最近扫码不早于', sg_before: '最近扫码早于',
	sg_behaviour: '扫码与领奖', sg_profile: '资料与地区', sg_value: '价值与积分',
	sg_count: '符合条件的客户', sg_people: '{n} 人', sg_took: '用时 {ms} 毫秒',
	sg_counting: '正在统计…', sg_everyone: '未设条件：全部客户',
	sg_save: '保存分群', sg_update: '保存修改', sg_new: '新建分群', sg_cancel: '取消编辑',
	sg_saved_ok: '分群已保存', sg_deleted: '分群已删除', sg_edit: '编辑',
	sg_delete: '删除', sg_export: '导出客户 CSV', sg_none: '还没有保存的分群。',
	sg_confirm_delete: '删除分群“{name}”？',
	sg_col_name: '名称', sg_col_criteria: '条件', sg_col_updated: '更新时间',
	sg_col_actions: '操作', sg_editing: '正在编辑：{name}',
	sg_read_only: '当前角色只能查看和统计分群，不能保存或删除。',
	sg_month: '{m}月', sg_months_short: '月',
	female: '女', male: '男', other: '其他',
	service: '服务', marketing: '营销', profile: '资料',
	sg_err_name: '请填写分群名称（1 到 100 个字符）。',
	sg_err_points: '积分须为 0 或正整数，且下限不能高于上限。',
	sg_err_dates: '“最近扫码不早于”须早于“最近扫码早于”。',
	sg_err_list: '每项最多 100 个值，每个值最多 200 个字符。',
	sg_err_in_use: '该分群正被活动或消息用作目标人群，不能删除。',
	sg_err_busy: '服务器正在统计其他请求，请稍后重试。',
	sg_no_products: '还没有产品', sg_no_campaigns: '还没有活动',
});
Object.assign(A.TEXT.en, {
	segments: 'Segments',
	sg_intro: 'Pick customers by tier, value segment, region, profile, scans ' +
	    'and claims, points and consent. Several choices in one criterion ' +
	    'mean "or", criteria together mean "and"; leave one empty for any. ' +
	    'The server counts the customers as you go.',
	sg_builder: 'Criteria', sg_saved: 'Saved segments',
	sg_name: 'Segment name', sg_tier: 'Tier', sg_rfm: 'Value segment (RFM)',
	sg_role: 'Role', sg_points_min: 'Points balance at least',
	sg_points_max: 'Points balance at most', sg_consent: 'Consented (any of)',
	sg_gender: 'Gender', sg_months: 'Birthday month',
	sg_tags: 'Tags (any of; commas between)',
	sg_province: 'Province (latest scan; commas between)',
	sg_city: 'City (latest scan or profile; commas between)',
	sg_country: 'Country (code such as CN; commas between)',
	sg_scanned: 'Products scanned', sg_claimed: 'Products claimed',
	sg_campaigns: 'Campaigns claimed in', sg_after: 'Last scan on or after',
	sg_before: 'Last scan before', sg_behaviour: 'Scans and claims',
	sg_profile: 'Profile and region', sg_value: 'Value and points',
	sg_count: 'Matching customers', sg_people: '{n}', sg_took: '{ms} ms',
	sg_counting: 'Counting…', sg_everyone: 'No criteria: every customer',
	sg_save: 'Save segment', sg_update: 'Save changes', sg_new: 'New segment',
	sg_cancel: 'Stop editing', sg_saved_ok: 'Segment saved',
	sg_deleted: 'Segment deleted', sg_edit: 'Edit', sg_delete: 'Delete',
	sg_export: 'Export customers (CSV)', sg_none: 'No saved segment yet.',
	sg_confirm_delete: 'Delete the segment "{name}"?',
	sg_col_name: 'Name', sg_col_criteria: 'Criteria',
	sg_col_updated: 'Updated', sg_col_actions: 'Actions',
	sg_editing: 'Editing: {name}',
	sg_read_only: 'This role may look at and count segments, not save or ' +
	    'delete them.',
	sg_month: '{m}', sg_months_short: 'month',
	female: 'Female', male: 'Male', other: 'Other',
	service: 'Service', marketing: 'Marketing', profile: 'Profile',
	sg_err_name: 'Give the segment a name (1 to 100 characters).',
	sg_err_points: 'Points are whole numbers from 0, the lower bound not ' +
	    'above the upper.',
	sg_err_dates: '"Last scan on or after" must be before "Last scan before".',
	sg_err_list: 'At most 100 values a criterion, 200 characters a value.',
	sg_err_in_use: 'A campaign or message uses this segment as its ' +
	    'audience: it cannot be deleted.',
	sg_err_busy: 'The server is counting for other requests; try again.',
	sg_no_products: 'No products yet', sg_no_campaigns: 'No campaigns yet',
});

/* The browser's UTC offset, "+08:00" (the export's ?tz=). */
function tzOffset() {
	const m = -new Date().getTimezoneOffset(), a = Math.abs(m);
	return (m < 0 ? '-' : '+') + String(Math.floor(a / 60)).padStart(2, '0') +
	    ':' + String(a % 60).padStart(2, '0');
}

/* A date input's day as the instant its local midnight is, and back. */
function dayInstant(day) {
	const [y, m, d] = day.split('-').map(Number);
	return new Date(y, m - 1, d).toISOString();
}

function instantDay(s) {
	if (!s)
		return '';
	if (/^\d{4}-\d\d-\d\d$/.test(s))
		return s;
	const d = new Date(s);
	if (isNaN(d))
		return '';
	return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}` +
	    `-${String(d.getDate()).padStart(2, '0')}`;
}

function errText(e) {
	if (e && e.code === 'segment_in_use')
		return t('sg_err_in_use');
	if (e && e.code === 'busy')
		return t('sg_err_busy');
	return A.errText(e);
}

/* A row of checkboxes: values with their labels, those in sel ticked. */
function checks(id, values, label, sel) {
	return el('div', { class: 'checks', id }, values.map((v) =>
	    el('label', { class: 'check' }, el('input', { type: 'checkbox',
	    value: String(v), checked: sel && sel.includes(v) }), label(v))));
}

function ticked(box, num) {
	return Array.from(box.querySelectorAll('input:checked')).map((i) =>
	    num ? Number(i.value) : i.value);
}

/* "a, b，c、d" into ["a", "b", "c", "d"], each once. */
function words(s) {
	const out = [];
	for (const w of s.split(/[,，、;；\n]+/).map((x) => x.trim()))
		if (w && !out.includes(w))
			out.push(w);
	return out;
}

function group(title, ...fields) {
	return el('fieldset', { class: 'wide stack' }, el('legend', {}, title),
	    fields);
}

/* The criteria in words, for the saved list. */
function describe(c) {
	const parts = [];
	const names = (k, vals) => vals.map((v) => A.TEXT[A.lang()][v] ?
	    t(v) : String(v)).join(' / ');
	const keys = { tier: 'sg_tier', segment: 'sg_rfm', role: 'sg_role',
	    consent: 'sg_consent', gender: 'sg_gender', birth_month: 'sg_months',
	    tags_any: 'sg_tags', province: 'sg_province', city: 'sg_city',
	    country: 'sg_country', products_scanned: 'sg_scanned',
	    products_claimed: 'sg_claimed', campaigns_claimed: 'sg_campaigns' };
	for (const [k, label] of Object.entries(keys))
		if (Array.isArray(c[k]))
			parts.push(`${t(label).replace(/[（(].*$/, '')}: ` +
			    names(k, c[k]));
	if (c.points_min !== undefined)
		parts.push(`${t('sg_points_min')} ${fmt(c.points_min)}`);
	if (c.points_max !== undefined)
		parts.push(`${t('sg_points_max')} ${fmt(c.points_max)}`);
	if (c.last_scan_after)
		parts.push(`${t('sg_after')} ${instantDay(c.last_scan_after)}`);
	if (c.last_scan_before)
		parts.push(`${t('sg_before')} ${instantDay(c.last_scan_before)}`);
	return parts.length ? parts.join('；') : t('sg_everyone');
}

/*
 * The builder: existing (a saved segment, or null), ctx {tiers,
 * products, campaigns}, done(saved) after a save or on cancel.
 */
function builder(existing, ctx, done) {
	const c = (existing && existing.criteria) || {};
	const name = el('input', { id: 'sg-name', maxlength: NAME_MAX,
	    value: existing ? existing.name : '' });
	const tier = checks('sg-tier', ctx.tiers, (v) => v, c.tier);
	const rfm = checks('sg-rfm', RFM, (v) => t(v), c.segment);
	const role = checks('sg-role', ROLES, (v) => t(v), c.role);
	const pmin = el('input', { id: 'sg-pmin', type: 'number', step: 1,
	    inputmode: 'numeric', value: c.points_min !== undefined ?
	    String(c.points_min) : '' });
	const pmax = el('input', { id: 'sg-pmax', type: 'number', step: 1,
	    inputmode: 'numeric', value: c.points_max !== undefined ?
	    String(c.points_max) : '' });
	const consent = checks('sg-consent', PURPOSES, (v) => t(v), c.consent);
	const gender = checks('sg-gender', GENDERS, (v) => t(v), c.gender);
	const months = checks('sg-months', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12], (m) => t('sg_month').replace('{m}', m), c.birth_month);
	const text = (id, v) => el('input', { id, value: (v || []).join(', ') });
	const tags = text('sg-tags', c.tags_any);
	const province = text('sg-province', c.province);
	const city = text('sg-city', c.city);
	const country = text('sg-country', c.country);
	const skus = ctx.products.map((p) => p.sku);
	const pname = (sku) => {
		const p = ctx.products.find((x) => x.sku === sku);
		return p ? `${p.sku} · ${p.name}` : sku;
	};
	const scanned = ctx.products.length ? checks('sg-scanned', skus, pname,
	    c.products_scanned) : el('p', { class: 'muted' }, t('sg_no_products'));
	const claimed = ctx.products.length ? checks('sg-claimed', skus, pname,
	    c.products_claimed) : el('p', { class: 'muted' }, t('sg_no_products'));
	const camps = ctx.campaigns.length ? checks('sg-campaigns',
	    ctx.campaigns.map((x) => x.id), (id) => {
		const x = ctx.campaigns.find((y) => y.id === id);
		return `#${id} ${(x.config && x.config.name) || ''}`;
	    }, c.campaigns_claimed) : el('p', { class: 'muted' },
	    t('sg_no_campaigns'));
	/* Days in the browser's zone, sent as the instants they start at. */
	const after = el('input', { id: 'sg-after', type: 'date', value:
	    instantDay(c.last_scan_after) });
	const before = el('input', { id: 'sg-before', type: 'date', value:
	    instantDay(c.last_scan_before) });
	const msg = el('div', { class: 'notice error', id: 'sg-msg',
	    hidden: true });
	const count = el('div', { class: 'kpi', id: 'sg-count' },
	    el('div', { class: 'label' }, t('sg_count')),
	    el('div', { class: 'value', id: 'sg-count-value' }, '–'),
	    el('div', { class: 'delta', id: 'sg-count-note' }, ''));

	/* The criteria the form says, or an error key. */
	const criteria = () => {
		const o = {};
		const put = (k, v) => {
			if (v.length)
				o[k] = v;
		};
		put('tier', ticked(tier));
		put('segment', ticked(rfm));
		put('role', ticked(role));
		put('consent', ticked(consent));
		put('gender', ticked(gender));
		put('birth_month', ticked(months, true));
		put('tags_any', words(tags.value));
		put('province', words(province.value));
		put('city', words(city.value));
		put('country', words(country.value));
		if (ctx.products.length) {
			put('products_scanned', ticked(scanned));
			put('products_claimed', ticked(claimed));
		}
		if (ctx.campaigns.length)
			put('campaigns_claimed', ticked(camps, true));
		for (const v of Object.values(o))
			if (v.length > LIST_MAX || v.some((x) =>
			    String(x).length > TEXT_MAX))
				return { err: 'sg_err_list' };
		for (const [k, inp] of [['points_min', pmin], ['points_max', pmax]]) {
			if (inp.value === '')
				continue;
			const n = Number(inp.value);
			if (!Number.isInteger(n) || n < 0 || n > 1e12)
				return { err: 'sg_err_points' };
			o[k] = n;
		}
		if (o.points_min !== undefined && o.points_max !== undefined &&
		    o.points_min > o.points_max)
			return { err: 'sg_err_points' };
		if (after.value)
			o.last_scan_after = dayInstant(after.value);
		if (before.value)
			o.last_scan_before = dayInstant(before.value);
		if (after.value && before.value && after.value >= before.value)
			return { err: 'sg_err_dates' };
		return { c: o };
	};

	/* The live count: one request at a time, the latest criteria. */
	let timer = null, busy = false, again = false;
	const valueBox = count.querySelector('#sg-count-value');
	const noteBox = count.querySelector('#sg-count-note');
	const recount = async () => {
		if (busy) {
			again = true;
			return;
		}
		const r = criteria();
		if (r.err) {
			msg.textContent = t(r.err);
			msg.hidden = false;
			valueBox.textContent = '–';
			noteBox.textContent = '';
			return;
		}
		msg.hidden = true;
		busy = true;
		noteBox.textContent = t('sg_counting');
		try {
			const d = await api('POST', '/api/v1/segments/count', r.c);
			valueBox.textContent = t('sg_people').replace('{n}',
			    fmt(d.count));
			noteBox.textContent = (Object.keys(r.c).length ? '' :
			    t('sg_everyone') + ' · ') +
			    t('sg_took').replace('{ms}', fmt(d.took_ms));
			count.dataset.count = String(d.count);
		} catch (e) {
			noteBox.textContent = errText(e);
		} finally {
			busy = false;
			if (again) {
				again = false;
				recount();
			}
		}
	};
	const soon = () => {
		clearTimeout(timer);
		timer = setTimeout(recount, COUNT_DELAY_MS);
	};

	const save = el('button', { type: 'submit', class: 'primary',
	    id: 'sg-save' }, existing ? t('sg_update') : t('sg_save'));
	const cancel = existing ? el('button', { type: 'button',
	    id: 'sg-cancel' }, t('sg_cancel')) : null;
	if (cancel)
		cancel.addEventListener('click', () => done(null));
	const form = el('form', { class: 'stack', id: 'sg-form' },
	    existing ? el('p', { class: 'wide', id: 'sg-editing' },
	    el('strong', {}, t('sg_editing').replace('{name}', existing.name))) :
	    null,
	    el('div', { class: 'wide' }, count),
	    group(t('sg_value'), el('div', { class: 'lbl wide' }, t('sg_tier'),
	    tier), el('div', { class: 'lbl wide' }, t('sg_rfm'), rfm),
	    el('div', { class: 'lbl wide' }, t('sg_role'), role),
	    el('label', {}, t('sg_points_min'), pmin),
	    el('label', {}, t('sg_points_max'), pmax),
	    el('div', { class: 'lbl wide' }, t('sg_consent'), consent)),
	    group(t('sg_profile'), el('div', { class: 'lbl wide' },
	    t('sg_gender'), gender), el('div', { class: 'lbl wide' },
	    t('sg_months'), months), el('label', {}, t('sg_tags'), tags),
	    el('label', {}, t('sg_province'), province),
	    el('label', {}, t('sg_city'), city),
	    el('label', {}, t('sg_country'), country)),
	    group(t('sg_behaviour'), el('div', { class: 'lbl wide' },
	    t('sg_scanned'), scanned), el('div', { class: 'lbl wide' },
	    t('sg_claimed'), claimed), el('div', { class: 'lbl wide' },
	    t('sg_campaigns'), camps), el('label', {}, t('sg_after'), after),
	    el('label', {}, t('sg_before'), before)),
	    msg,
	    can.operate() ? el('label', { class: 'wide' }, t('sg_name'), name) :
	    el('div', { class: 'notice wide', id: 'sg-read-only' },
	    t('sg_read_only')),
	    can.operate() ? el('div', { class: 'actions wide' }, save, cancel) :
	    null);
	form.addEventListener('input', soon);
	form.addEventListener('change', soon);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const r = criteria();
		const n = name.value.trim();
		if (r.err || !n || n.length > NAME_MAX) {
			msg.textContent = t(r.err || 'sg_err_name');
			msg.hidden = false;
			return;
		}
		msg.hidden = true;
		try {
			const body = { name: n, criteria: r.c };
			const s = existing ? await api('PUT', '/api/v1/segments/' +
			    existing.id, body) : await api('POST',
			    '/api/v1/segments', body);
			toast(t('sg_saved_ok'));
			done(s);
		} catch (e) {
			msg.textContent = errText(e);
			msg.hidden = false;
		}
	});
	recount();
	return form;
}

async function segmentsPage(box) {
	const head = el('div', { class: 'toolbar' }, el('h1', {}, t('segments')));
	const builderCard = el('div', { class: 'card', id: 'sg-builder' });
	const listCard = el('div', { class: 'card', id: 'sg-list' });
	append(box, [head, el('p', { class: 'muted' }, t('sg_intro')),
	    builderCard, listCard]);
	const reload = () => A.route();
	loading(listCard);
	let ctx, saved;
	try {
		const [settings, products, campaigns, list] = await Promise.all([
		    api('GET', '/api/v1/settings').catch(() => ({})),
		    api('GET', '/api/v1/products?limit=100').then((r) =>
		      r.products || []).catch(() => []),
		    api('GET', '/api/v1/campaigns').then((r) =>
		      r.campaigns || []).catch(() => []),
		    api('GET', '/api/v1/segments')]);
		ctx = { tiers: (settings.tiers || [{ name: '铜 Bronze' },
		    { name: '银 Silver' }, { name: '金 Gold' }]).map((x) => x.name),
		    products, campaigns };
		saved = list.segments;
	} catch (e) {
		failure(listCard, e, reload);
		return;
	}
	const edit = (s) => {
		append(clear(builderCard), [el('h2', {}, t('sg_builder')),
		    builder(s, ctx, (done) => {
			if (done || s)
				reload();
		    })]);
		if (s)
			builderCard.scrollIntoView({ block: 'start' });
	};
	edit(null);

	const actions = (s) => {
		const out = [];
		if (can.operate())
			out.push(el('button', { type: 'button', class: 'small',
			    id: `sg-edit-${s.id}`, on: { click: () => edit(s) } },
			    t('sg_edit')));
		if (can.admin())
			out.push(el('a', { class: 'button small', id: `sg-export-${s.id}`,
			    href: `/api/v1/segments/${s.id}/customers.csv?lang=` +
			    (A.lang() === 'zh' ? 'zh' : 'en') + '&tz=' +
			    encodeURIComponent(tzOffset()),
			    download: `segment-${s.id}.csv` }, t('sg_export')));
		if (can.operate())
			out.push(el('button', { type: 'button', class: 'small',
			    id: `sg-delete-${s.id}`, on: { click: async () => {
				if (!await confirmBox(t('sg_delete'), el('p', {},
				    t('sg_confirm_delete').replace('{name}', s.name))))
					return;
				try {
					await api('DELETE', '/api/v1/segments/' + s.id);
					toast(t('sg_deleted'));
					reload();
				} catch (e) {
					toast(errText(e), true);
				}
			    } } }, t('sg_delete')));
		return el('span', { class: 'row-tools' }, out);
	};
	append(clear(listCard), [el('h2', {}, t('sg_saved')),
	    table([{ label: t('sg_col_name'), render: (s) => el('strong', {},
	    s.name) }, { label: t('sg_col_criteria'), render: (s) =>
	    el('span', { class: 'sub' }, describe(s.criteria || {})) },
	    { label: t('sg_col_updated'), render: (s) => A.when(s.updated) },
	    { label: t('sg_col_actions'), render: actions }], saved,
	    t('sg_none'))]);
}

A.registerPage('segments', 'customers', segmentsPage, { group: 'customers',
    ownNote: true });

})();
