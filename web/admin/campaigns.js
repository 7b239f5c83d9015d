/*
 * campaigns.js - the dashboard's scan-to-earn campaigns (issue 19 item
 * 4): the list with what each really does (running, paused, ended, not
 * started, or "overridden by #N": the server says which older campaign
 * takes its claims), its products and batches, rewards per role, prize
 * draw, PIN requirement (and the covered batches without a PIN print
 * file), results; and the whole form: products and batches picked from
 * what exists, dates in the browser's calendar, points per role
 * (consumer, retailer, sales), daily cap, budget, territory, hidden PIN,
 * prize draw, points expiry.
 *
 * What cannot be set up right is refused by the server (422 naming the
 * field: an unknown SKU or batch, a territory that is not a distributor,
 * a PIN campaign where no PIN file was made); the form marks that field
 * and says why in the page's language. Hidden PINs come only from
 * `sigil mint --pin` on the packaging line's machine (the PIN key never
 * leaves it), which the form says beside the checkbox.
 *
 * It keeps the rules of app.js (whose helpers it uses through
 * window.sigilAdmin): text only, CSRF on every change (api()), change
 * controls for admins only.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
if (!A)
	return;
const { el, append, clear, t, api, can, toast, pill, fmt, table, loading,
    failure } = A;

Object.assign(A.TEXT.zh, {
	cp_targets: '适用产品与批次', cp_rewards: '奖励', cp_pick_batches:
	'批次（可多选，按住 Ctrl/⌘）', cp_consumer_pts: '消费者每次积分',
	cp_retailer_pts: '零售商每次积分（0 不参与）',
	cp_sales_pts: '业务员每次积分（0 不参与）',
	cp_expiry: '积分有效期（天，0 永久）', cp_territory: '区域限制',
	cp_anywhere: '不限区域', cp_draw: '抽奖奖品', cp_prize: '奖品名称',
	cp_odds: '中奖率（%）', cp_stock: '库存', cp_add_prize: '添加奖品',
	cp_remove: '移除', cp_ended: '已结束', cp_not_started: '未开始',
	cp_overridden: '被 #%s 覆盖（不会生效）', cp_overlaps: '部分领奖归 #%s',
	cp_pin_needed: '需刮开 PIN', cp_pinless: '无 PIN 文件的批次：',
	cp_pin_note: '刮开 PIN 只能在包装线上用 sigil mint --batch 批次号 --format csv --pin 生成：PIN 密钥只保存在包装线电脑的密钥文件中，控制台和接口都不提供 PIN 文件。只有已生成 PIN 印刷文件的批次才能用于需要 PIN 的活动。',
	cp_need_target: '请至少选择一个产品 SKU 或批次',
	cp_unknown_product: '产品 SKU「%s」不存在，请检查拼写或先创建产品',
	cp_unknown_batch: '批次 #%s 不存在或已作废',
	cp_unknown_distributor: '所选经销商不存在',
	cp_no_pin_file: '所选产品或批次还没有刮开 PIN 印刷文件。PIN 文件在包装线上用 sigil mint --pin 生成，生成后才能开启此项。',
	cp_field_error: '请修改标出的项目',
	cp_roles: '积分', cp_days: '天', cp_prizes: '个奖品',
});
Object.assign(A.TEXT.en, {
	cp_targets: 'Products and batches', cp_rewards: 'Rewards',
	cp_pick_batches: 'Batches (pick several with Ctrl/⌘)',
	cp_consumer_pts: 'Points per consumer claim',
	cp_retailer_pts: 'Points per retailer claim (0 = none)',
	cp_sales_pts: 'Points per sales-rep claim (0 = none)',
	cp_expiry: 'Points expire after (days, 0 = never)',
	cp_territory: 'Territory', cp_anywhere: 'Anywhere',
	cp_draw: 'Prize draw', cp_prize: 'Prize', cp_odds: 'Odds (%)',
	cp_stock: 'Stock', cp_add_prize: 'Add a prize', cp_remove: 'Remove',
	cp_ended: 'Ended', cp_not_started: 'Not started',
	cp_overridden: 'Overridden by #%s (rewards nothing)',
	cp_overlaps: 'some claims go to #%s', cp_pin_needed: 'Hidden PIN',
	cp_pinless: 'Batches without a PIN file: ',
	cp_pin_note: 'Hidden PINs are made only on the packaging line, with ' +
	    'sigil mint --batch ID --format csv --pin: the PIN key stays in ' +
	    'the keyring of that machine, and neither the dashboard nor the ' +
	    'API serves PIN files. Only batches whose PIN print file was made ' +
	    'can be in a campaign that requires a PIN.',
	cp_need_target: 'Pick at least one product SKU or batch',
	cp_unknown_product: 'There is no product with SKU "%s": check the ' +
	    'spelling, or create the product first',
	cp_unknown_batch: 'Batch #%s does not exist or is revoked',
	cp_unknown_distributor: 'That distributor does not exist',
	cp_no_pin_file: 'No hidden-PIN print file was made for these ' +
	    'products or batches yet. PIN files are made on the packaging ' +
	    'line with sigil mint --pin; tick this once they are.',
	cp_field_error: 'Please fix the marked fields',
	cp_roles: 'points', cp_days: 'days', cp_prizes: 'prizes',
});

function tf(key, arg) {
	return t(key).replace('%s', arg);
}

/* A date in the browser's calendar (not UTC's): YYYY-MM-DD. */
function localDate(d) {
	return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-` +
	    String(d.getDate()).padStart(2, '0');
}

/* The date part of a stored instant, in the browser's calendar. */
function dateOf(iso) {
	if (!iso)
		return '';
	const d = new Date(iso);
	return isNaN(d) ? String(iso).slice(0, 10) : localDate(d);
}

function splitList(s) {
	return s.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
}

function num(input) {
	return Number(input.value) || 0;
}

function prizeRow(p) {
	const row = el('div', { class: 'prize-row' },
	    el('input', { name: 'prize_name', maxlength: 64, value: p.name || '',
	      'aria-label': t('cp_prize'), placeholder: t('cp_prize') }),
	    el('input', { name: 'prize_odds', type: 'number', min: 0, max: 100,
	      step: 'any', value: p.odds !== undefined ? +(p.odds * 100).toFixed(4) : '',
	      'aria-label': t('cp_odds'), placeholder: t('cp_odds') }),
	    el('input', { name: 'prize_stock', type: 'number', min: 0,
	      value: p.stock !== undefined ? p.stock : '',
	      'aria-label': t('cp_stock'), placeholder: t('cp_stock') }));
	row.appendChild(el('button', { type: 'button', class: 'ghost', on: {
	    click: () => row.remove() } }, t('cp_remove')));
	return row;
}

/* The form; done(saved) closes it. batches, distributors: for pickers. */
function campaignForm(existing, batches, distributors, done) {
	const c = existing ? existing.config : {};
	const roles = c.roles || { consumer: c.points };
	const skus = [...new Set(batches.map((b) => b.sku))];
	const f = {
		name: el('input', { name: 'name', required: true, maxlength: 100,
		    value: c.name || '' }),
		skus: el('input', { name: 'skus',
		    value: (c.skus || []).join(', ') }),
		batches: el('select', { name: 'batches', size: 4 }),
		starts: el('input', { name: 'starts', type: 'date', required: true,
		    value: dateOf(c.starts) || localDate(new Date()) }),
		ends: el('input', { name: 'ends', type: 'date', required: true,
		    value: dateOf(c.ends) ||
		    localDate(new Date(Date.now() + 90 * 86400000)) }),
		points: el('input', { name: 'points', type: 'number', min: 0,
		    value: existing ? roles.consumer || 0 : 10 }),
		retailer: el('input', { name: 'retailer', type: 'number', min: 0,
		    value: roles.retailer || 0 }),
		sales: el('input', { name: 'sales', type: 'number', min: 0,
		    value: roles.sales || 0 }),
		daily_cap: el('input', { name: 'daily_cap', type: 'number', min: 0,
		    value: c.daily_cap || 0 }),
		budget: el('input', { name: 'budget', type: 'number', min: 0,
		    value: c.budget || 0 }),
		expiry_days: el('input', { name: 'expiry_days', type: 'number',
		    min: 0, max: 3650, value: c.expiry_days || 0 }),
		territory: el('select', { name: 'territory' },
		    el('option', { value: '' }, t('cp_anywhere')),
		    distributors.map((d) => el('option', { value: String(d.id),
		      selected: c.territory === d.id }, `#${d.id} · ${d.name}`))),
		require_pin: el('input', { name: 'require_pin', type: 'checkbox',
		    checked: !!c.require_pin }),
	};
	/* Attributes el() does not set: a multiple choice, a suggestion list. */
	f.batches.multiple = true;
	f.skus.setAttribute('list', 'campaign-skus');
	append(f.batches, batches.filter((b) => b.state !== 'revoked' ||
	    (c.batches || []).includes(b.id)).map((b) => el('option', {
	      value: String(b.id), selected: (c.batches || []).includes(b.id) },
	      `#${b.id} · ${b.sku} · ${t('lot')} ${b.lot || '–'} · ${t(b.state)}`)));
	const prizes = el('div', { class: 'prizes wide' },
	    (c.draw || []).map(prizeRow));
	const msg = el('div', { class: 'notice error', hidden: true,
	    role: 'alert' });
	const errors = [];
	const mark = (input, text) => {
		input.setAttribute('aria-invalid', 'true');
		const m = el('div', { class: 'field-error', role: 'alert' }, text);
		input.closest('label').after(m);
		errors.push([input, m]);
	};
	const unmark = () => {
		for (const [input, m] of errors.splice(0)) {
			input.removeAttribute('aria-invalid');
			m.remove();
		}
		msg.hidden = true;
	};
	const form = el('form', { class: 'stack', id: 'campaign-form' },
	    el('label', { class: 'wide' }, t('name'), f.name),
	    el('datalist', { id: 'campaign-skus' },
	      skus.map((s) => el('option', { value: s }))),
	    el('label', {}, t('skus'), f.skus),
	    el('label', {}, t('cp_pick_batches'), f.batches),
	    el('label', {}, t('starts'), f.starts),
	    el('label', {}, t('ends'), f.ends),
	    el('label', {}, t('cp_consumer_pts'), f.points),
	    el('label', {}, t('cp_retailer_pts'), f.retailer),
	    el('label', {}, t('cp_sales_pts'), f.sales),
	    el('label', {}, t('daily_cap'), f.daily_cap),
	    el('label', {}, t('budget'), f.budget),
	    el('label', {}, t('cp_expiry'), f.expiry_days),
	    el('label', {}, t('cp_territory'), f.territory),
	    el('label', { class: 'check wide' }, f.require_pin, t('require_pin')),
	    el('p', { class: 'muted small wide', id: 'pin-note' }, t('cp_pin_note')),
	    el('div', { class: 'lbl wide' }, t('cp_draw')), prizes,
	    el('div', { class: 'wide' }, el('button', { type: 'button',
	      id: 'add-prize', on: { click: () => {
	        if (prizes.children.length < 8)
	          prizes.appendChild(prizeRow({}));
	      } } }, t('cp_add_prize'))),
	    el('div', { class: 'actions' },
	    el('button', { type: 'submit', class: 'primary' }, t('save')),
	    el('button', { type: 'button', on: { click: () => done(false) } },
	    t('cancel'))));
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		unmark();
		const cfg = {
			name: f.name.value.trim(),
			starts: f.starts.value, ends: f.ends.value,
			daily_cap: num(f.daily_cap), budget: num(f.budget),
			expiry_days: num(f.expiry_days),
			require_pin: f.require_pin.checked,
		};
		if (c.paused)
			cfg.paused = true;
		const pts = { consumer: num(f.points), retailer: num(f.retailer),
		    sales: num(f.sales) };
		cfg.points = pts.consumer || pts.retailer || pts.sales || 1;
		if (pts.retailer || pts.sales || !pts.consumer) {
			cfg.roles = {};
			for (const [k, v] of Object.entries(pts))
				if (v)
					cfg.roles[k] = v;
		}
		const skuList = splitList(f.skus.value);
		const batchList = [...f.batches.selectedOptions].map((o) =>
		    Number(o.value));
		if (skuList.length)
			cfg.skus = skuList;
		if (batchList.length)
			cfg.batches = batchList;
		if (f.territory.value)
			cfg.territory = Number(f.territory.value);
		const draw = [...prizes.children].map((r) => ({
			name: r.querySelector('[name=prize_name]').value.trim(),
			odds: Number(r.querySelector('[name=prize_odds]').value) / 100,
			stock: Number(r.querySelector('[name=prize_stock]').value) || 0,
		})).filter((p) => p.name);
		if (draw.length)
			cfg.draw = draw;
		if (!skuList.length && !batchList.length) {
			mark(f.skus, t('cp_need_target'));
			return;
		}
		try {
			if (existing)
				await api('POST', `/api/v1/campaigns/${existing.id}/update`, cfg);
			else
				await api('POST', '/api/v1/campaigns', cfg);
			toast(t('saved'));
			done(true);
		} catch (e) {
			const m = /^(skus|batches)\[(\d+)\]$/.exec(e.field || '');
			const input = m ? f[m[1]] : f[e.field];
			const value = m ? cfg[m[1]][Number(m[2])] : '';
			const known = { unknown_product: 1, unknown_batch: 1,
			    unknown_distributor: 1, no_pin_file: 1 };
			const text = known[e.code] ? tf('cp_' + e.code, value) :
			    A.errText(e);
			if (input) {
				mark(input, text);
				msg.textContent = t('cp_field_error');
			} else
				msg.textContent = text;
			msg.hidden = false;
		}
	});
	return el('div', { class: 'card' }, el('h2', {}, existing ?
	    t('edit') + ' · ' + (c.name || '') : t('new_campaign')), msg, form);
}

/* What the campaign really does now, as a pill and a line under it. */
function stateCell(c) {
	const cfg = c.config || {};
	const now = Date.now();
	let p;
	if (!c.active)
		p = pill(t('paused'), 'warn');
	else if (cfg.ends && new Date(cfg.ends) <= now)
		p = pill(t('cp_ended'), '');
	else if (cfg.starts && new Date(cfg.starts) > now)
		p = pill(t('cp_not_started'), 'info');
	else if (c.overridden_by)
		p = pill(tf('cp_overridden', c.overridden_by), 'bad');
	else
		p = pill(t('active'), 'ok');
	const sub = !c.overridden_by && c.overlaps && c.overlaps.length ?
	    el('span', { class: 'sub' }, tf('cp_overlaps', c.overlaps.join(', #'))) :
	    null;
	return [p, sub];
}

function targetsCell(c) {
	const cfg = c.config || {};
	const parts = [(cfg.skus || []).join(', ') || null,
	    (cfg.batches || []).length ? (cfg.batches || []).map((b) =>
	    '#' + b).join(', ') : null].filter(Boolean);
	const pin = cfg.require_pin ? [pill(t('cp_pin_needed'), 'info'),
	    (c.batches_without_pins || []).length ? el('span', { class: 'sub' },
	    t('cp_pinless') + c.batches_without_pins.map((b) => '#' + b)
	    .join(', ')) : null] : [];
	return [parts.join(' · ') || '–', ...pin];
}

function rewardsCell(c) {
	const cfg = c.config || {};
	const roles = cfg.roles || { consumer: cfg.points };
	const line = Object.entries(roles).map(([k, v]) => `${t(k)} ${fmt(v)}`)
	    .join(' · ');
	const extra = [cfg.draw && cfg.draw.length ?
	    `${t('cp_draw')} ${cfg.draw.length} ${t('cp_prizes')}` : null,
	    cfg.expiry_days ? `${t('cp_expiry')}: ${cfg.expiry_days}` : null,
	    cfg.territory ? `${t('cp_territory')} #${cfg.territory}` : null]
	    .filter(Boolean).join(' · ');
	return [line, extra ? el('span', { class: 'sub' }, extra) : null];
}

async function campaignsPage(box) {
	const head = el('div', { class: 'toolbar' }, el('h1', {}, t('campaigns')),
	    el('span', { class: 'spacer' }));
	const formBox = el('div', {});
	const body = el('div', {});
	body.dataset.optional = '1';
	append(box, [head, formBox, body]);
	const reload = () => A.route();
	loading(body);
	const today = new Date();
	const yearAgo = new Date(today.getTime() - 364 * 86400000);
	let list, stats, batches, distributors;
	try {
		[list, stats, batches, distributors] = await Promise.all([
		    api('GET', '/api/v1/campaigns'),
		    api('GET', `/api/v1/stats/campaigns?from=${localDate(yearAgo)}` +
		      `&to=${localDate(today)}`).catch(() => ({ campaigns: [] })),
		    api('GET', '/api/v1/batches').then((r) => r.batches || []),
		    api('GET', '/api/v1/distributors').then((r) =>
		      r.distributors || []).catch(() => [])]);
	} catch (e) {
		failure(body, e, reload);
		return;
	}
	const showForm = (existing) => {
		append(clear(formBox), [campaignForm(existing, batches, distributors,
		    (saved) => {
			clear(formBox);
			if (saved)
				reload();
		    })]);
		formBox.scrollIntoView({ block: 'start' });
	};
	if (can.admin())
		head.appendChild(el('button', { type: 'button', class: 'primary',
		    id: 'new-campaign', on: { click: () => showForm(null) } },
		    t('new_campaign')));
	const byId = new Map((stats.campaigns || []).map((s) => [s.campaign, s]));
	clear(body);
	body.appendChild(el('div', { class: 'card' }, table([
	    { label: '#', key: 'id' },
	    { label: t('name'), render: (c) => [c.config && c.config.name || '–',
	      el('span', { class: 'sub' }, `${dateOf(c.config && c.config.starts)}` +
	      ` → ${dateOf(c.config && c.config.ends)}`)] },
	    { label: t('state'), render: stateCell },
	    { label: t('cp_targets'), render: targetsCell },
	    { label: t('cp_rewards'), render: rewardsCell },
	    { label: t('claims'), num: true,
	      render: (c) => fmt(c.results ? c.results.claims : 0) },
	    { label: t('budget_used'), num: true, render: (c) => {
	      const b = c.config && c.config.budget;
	      const used = c.results ? c.results.points : 0;
	      return b ? `${fmt(used)} / ${fmt(b)} (${Math.round(100 * used / b)}%)` :
	        fmt(used);
	    } },
	    { label: t('redemptions'), num: true, render: (c) => fmt((byId.get(c.id) ||
	      {}).redemptions || 0) },
	    { label: t('prizes_given'), num: true,
	      render: (c) => fmt(c.results ? c.results.prizes_given : 0) },
	    { label: t('actions'), render: (c) => can.admin() ?
	      el('div', { class: 'row-actions' },
	      el('button', { type: 'button', on: { click: () => showForm(c) } },
	        t('edit')),
	      el('button', { type: 'button', on: { click: async () => {
	        try {
	          await api('POST', `/api/v1/campaigns/${c.id}/` +
	            (c.active ? 'pause' : 'resume'), {});
	          reload();
	        } catch (e) {
	          toast(A.errText(e), true);
	        }
	      } } }, c.active ? t('pause') : t('resume'))) : '' },
	], list.campaigns || [])));
}

A.registerPage('campaigns', 'overview', campaignsPage,
    { group: 'marketing' });

})();
