/*
 * catalog.js - the dashboard's rewards catalog and member tiers (issue 19
 * item 5): the items customers may spend points on (GET/POST
 * /api/v1/catalog/items: name, cost in points, stock or unlimited) and
 * the tiers by 12-month points (GET/POST /api/v1/settings), in a form
 * that cannot be set up wrong: the first tier starts at 0 (fixed), each
 * next one above the one before, 1 to 8 tiers, every name 1-32
 * characters; Save stays off, with the reason shown, until it holds.
 *
 * It keeps the rules of app.js (window.sigilAdmin): text only, the CSRF
 * token on every change (api()), change controls for admins only (the
 * API refuses the rest), errors by code in the page's language.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, fmt, table, loading } = A;

const TIERS_MAX = 8;

Object.assign(A.TEXT.zh, {
	catalog: '积分商城与等级', ca_items: '兑换商品', ca_cost: '所需积分',
	ca_stock: '库存', ca_unlimited: '不限', ca_new_item: '新增商品',
	ca_stock_note: '库存留空表示不限数量。', ca_add: '添加',
	ca_added: '已添加商品', ca_no_items: '还没有可兑换的商品。',
	ca_tiers: '会员等级', ca_tier_name: '等级名称', ca_tier_min: '12 个月积分达到',
	ca_tiers_note: '顾客按最近 12 个月获得的积分分级。第一级从 0 开始，之后每一级的门槛必须高于上一级；最多 8 级。',
	ca_add_tier: '添加等级', ca_remove: '删除', ca_save_tiers: '保存等级',
	ca_tiers_saved: '已保存等级',
	ca_bad_name: (i) => `第 ${i} 级：名称须为 1-32 个字符。`,
	ca_bad_min: (i) => `第 ${i} 级：门槛须为整数，且高于第 ${i - 1} 级。`,
	ca_bad_count: '等级须为 1 到 8 个。',
	ca_err_invalid: '输入有误：名称 1-200 个字符，积分至少 1，库存为 0 或以上的整数。',
	ca_err_forbidden: '只有管理员可以修改商品和等级。',
	ca_err_rate_limited: '操作太频繁，请稍后再试。',
	ca_err_load: '加载失败。',
});
Object.assign(A.TEXT.en, {
	catalog: 'Rewards & tiers', ca_items: 'Reward items',
	ca_cost: 'Cost (points)', ca_stock: 'Stock', ca_unlimited: 'unlimited',
	ca_new_item: 'New item', ca_stock_note: 'Leave stock empty for no limit.',
	ca_add: 'Add', ca_added: 'Item added',
	ca_no_items: 'No reward items yet.', ca_tiers: 'Member tiers',
	ca_tier_name: 'Tier name', ca_tier_min: 'From (points in 12 months)',
	ca_tiers_note: 'Customers are tiered by the points they earned in the ' +
	    'last 12 months. The first tier starts at 0; each next one must ' +
	    'start above the one before; at most 8 tiers.',
	ca_add_tier: 'Add a tier', ca_remove: 'Remove', ca_save_tiers: 'Save tiers',
	ca_tiers_saved: 'Tiers saved',
	ca_bad_name: (i) => `Tier ${i}: a name of 1-32 characters.`,
	ca_bad_min: (i) => `Tier ${i}: a whole number above tier ${i - 1}'s.`,
	ca_bad_count: 'Between 1 and 8 tiers.',
	ca_err_invalid: 'Check the input: name 1-200 characters, cost at ' +
	    'least 1, stock a whole number from 0.',
	ca_err_forbidden: 'Only an admin may change items and tiers.',
	ca_err_rate_limited: 'Too many requests; try again shortly.',
	ca_err_load: 'Could not load.',
});

function tx(key, ...args) {
	const v = A.TEXT[A.lang()][key] || A.TEXT.en[key];
	return typeof v === 'function' ? v(...args) : v;
}

function errText(e) {
	const key = 'ca_err_' + (e && e.code);
	return A.TEXT[A.lang()][key] ? t(key) : A.errText(e);
}

/* Code points, as the server counts a name's length. */
function chars(s) {
	return [...s].length;
}

/* The first problem of tiers [{name, min}] as text, or null. */
function tierProblem(tiers) {
	if (tiers.length < 1 || tiers.length > TIERS_MAX)
		return t('ca_bad_count');
	for (let i = 0; i < tiers.length; i++) {
		const n = tiers[i].name.trim();
		if (chars(n) < 1 || chars(n) > 32)
			return tx('ca_bad_name', i + 1);
		if (i > 0 && !(Number.isInteger(tiers[i].min) &&
		    tiers[i].min > tiers[i - 1].min))
			return tx('ca_bad_min', i + 1);
	}
	return null;
}

function itemForm(onDone) {
	const f = {
		name: el('input', { id: 'ca-item-name', required: true,
		    maxlength: 200 }),
		cost: el('input', { id: 'ca-item-cost', type: 'number', min: 1,
		    step: 1, required: true }),
		stock: el('input', { id: 'ca-item-stock', type: 'number', min: 0,
		    step: 1 }),
	};
	const msg = el('div', { class: 'notice error', hidden: true,
	    id: 'ca-item-msg' });
	const form = el('form', { class: 'stack', id: 'ca-item-form' },
	    el('label', {}, t('name'), f.name),
	    el('label', {}, t('ca_cost'), f.cost),
	    el('label', {}, t('ca_stock'), f.stock),
	    el('p', { class: 'sub muted' }, t('ca_stock_note')),
	    el('div', { class: 'actions' }, el('button', { type: 'submit',
	    class: 'primary', id: 'ca-item-add' }, t('ca_add'))));
	form.noValidate = true;	/* the page's own words for a bad field */
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		msg.hidden = true;
		const req = { name: f.name.value.trim(), cost: Number(f.cost.value) };
		if (f.stock.value.trim() !== '')
			req.stock = Number(f.stock.value);
		if (!req.name || !Number.isInteger(req.cost) || req.cost < 1 ||
		    (req.stock !== undefined && !(Number.isInteger(req.stock) &&
		    req.stock >= 0))) {
			msg.textContent = t('ca_err_invalid');
			msg.hidden = false;
			return;
		}
		try {
			await api('POST', '/api/v1/catalog/items', req);
			toast(t('ca_added'));
			onDone();
		} catch (e) {
			msg.textContent = errText(e);
			msg.hidden = false;
		}
	});
	return el('div', {}, el('h3', {}, t('ca_new_item')), msg, form);
}

/* The tiers editor: rows kept in `tiers`, redrawn on every change. */
function tiersEditor(start, canEdit) {
	const tiers = start.map((x) => ({ name: x.name, min: x.min }));
	const rowsBox = el('div', { id: 'ca-tiers' });
	const problem = el('div', { class: 'notice error', id: 'ca-tier-problem',
	    hidden: true });
	const save = el('button', { type: 'button', class: 'primary',
	    id: 'ca-tiers-save' }, t('ca_save_tiers'));
	const addBtn = el('button', { type: 'button', id: 'ca-tier-add' },
	    t('ca_add_tier'));
	const check = () => {
		const p = tierProblem(tiers);
		problem.textContent = p || '';
		problem.hidden = !p;
		save.disabled = !!p;
		addBtn.disabled = tiers.length >= TIERS_MAX;
	};
	const draw = () => {
		append(clear(rowsBox), tiers.map((tier, i) => {
			const name = el('input', { class: 'ca-tier-name', value: tier.name,
			    maxlength: 32, 'aria-label': `${t('ca_tier_name')} ${i + 1}`,
			    disabled: !canEdit });
			const min = el('input', { class: 'ca-tier-min', type: 'number',
			    min: 0, step: 1, value: i === 0 ? 0 : tier.min,
			    'aria-label': `${t('ca_tier_min')} ${i + 1}`,
			    disabled: !canEdit || i === 0 });
			name.addEventListener('input', () => {
				tier.name = name.value;
				check();
			});
			min.addEventListener('input', () => {
				tier.min = min.value === '' ? NaN : Number(min.value);
				check();
			});
			return el('div', { class: 'toolbar ca-tier' },
			    el('span', { class: 'muted' }, `${i + 1}.`), name, min,
			    canEdit && i > 0 ? el('button', { type: 'button',
			    class: 'ghost ca-tier-remove', on: { click: () => {
			        tiers.splice(i, 1);
			        draw();
			    } } }, t('ca_remove')) : null);
		}));
		check();
	};
	addBtn.addEventListener('click', () => {
		const last = tiers[tiers.length - 1];
		tiers.push({ name: '', min: last ? last.min + 500 : 0 });
		draw();
	});
	save.addEventListener('click', async () => {
		if (tierProblem(tiers))
			return;
		tiers[0].min = 0;
		try {
			const r = await api('POST', '/api/v1/settings', { tiers:
			    tiers.map((x) => ({ name: x.name.trim(), min: x.min })) });
			tiers.splice(0, tiers.length, ...r.tiers);
			draw();
			toast(t('ca_tiers_saved'));
		} catch (e) {
			problem.textContent = errText(e);
			problem.hidden = false;
		}
	});
	draw();
	return el('div', { class: 'card', id: 'ca-tiers-card' },
	    el('h2', {}, t('ca_tiers')), el('p', { class: 'muted' },
	    t('ca_tiers_note')), el('div', { class: 'toolbar muted' },
	    el('span', {}, t('ca_tier_name')), el('span', { class: 'spacer' }),
	    el('span', {}, t('ca_tier_min'))), rowsBox, problem,
	    canEdit ? el('div', { class: 'toolbar' }, addBtn,
	    el('span', { class: 'spacer' }), save) : null);
}

async function catalogPage(box) {
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('catalog')))]);
	const grid = el('div', { class: 'grid two' });
	const items = el('div', { class: 'card', id: 'ca-items' });
	const tiersBox = el('div', {});
	append(box, [grid]);
	append(grid, [items, tiersBox]);
	loading(items);
	let list, settings;
	try {
		[list, settings] = await Promise.all([
		    api('GET', '/api/v1/catalog/items'), api('GET', '/api/v1/settings')]);
	} catch (e) {
		append(clear(items), [el('div', { class: 'notice error' },
		    t('ca_err_load'), ' ', errText(e))]);
		return;
	}
	append(clear(items), [el('h2', {}, t('ca_items')), table([
	    { label: '#', key: 'id' },
	    { label: t('name'), key: 'name' },
	    { label: t('ca_cost'), key: 'cost', num: true },
	    { label: t('ca_stock'), num: true, render: (i) =>
	      i.stock === null || i.stock === undefined ? t('ca_unlimited') :
	      fmt(i.stock) },
	], list.items || [], t('ca_no_items')),
	    can.admin() ? itemForm(() => A.route()) : null]);
	tiersBox.appendChild(tiersEditor(settings.tiers || [], can.admin()));
}

A.registerPage('catalog', 'campaigns', catalogPage, { group: 'marketing' });

})();
