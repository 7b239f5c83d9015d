/*
 * campaigns.js - the dashboard's scan-to-earn campaigns (issue 19 item
 * 4): the list with what each really does (running, paused, ended, not
 * started, or "overridden by #N": the server says which older campaign
 * takes its claims), its products and batches, rewards per role, prize
 * draw, PIN requirement (and the covered batches without a PIN print
 * file), results; and the whole form: products and batches picked from
 * what exists, dates in the browser's calendar, points per role
 * (consumer, retailer, sales), daily cap, budget, territory, hidden PIN,
 * prize draw, points expiry; and how it stacks (priority, exclusive or
 * stackable, audience segment) and its extra earning rules (first-scan,
 * registration and birthday bonuses, streak, tier multipliers, seller
 * rebate), with what the bonuses and rebates paid.
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
	cp_stacking: '叠加规则', cp_priority: '优先级（越大越先判定）',
	cp_mode: '叠加方式', cp_exclusive: '独占：单独发放，不与其他活动叠加',
	cp_stackable: '可叠加：与其他可叠加活动同时发放',
	cp_mode_exclusive: '独占', cp_mode_stackable: '可叠加',
	cp_audience: '目标人群', cp_everyone: '所有会员',
	cp_stack_note: '同一扫码同时适用多个活动时，按优先级从高到低判定（优先级相同则先建的优先）：第一个适用的独占活动单独发放；没有独占活动适用时，所有可叠加活动的积分相加。每个活动的积分都从它自己的预算中扣除，预算用完的活动不再发放。',
	cp_earning: '额外奖励规则', cp_first_scan: '首次扫码奖励（积分）',
	cp_registration: '注册奖励（积分）', cp_birthday: '生日月奖励（积分，每年一次）',
	cp_streak: '连续领奖奖励', cp_streak_claims: '领奖次数',
	cp_streak_days: '天数内', cp_streak_points: '奖励积分',
	cp_streak_note: '在指定天数内第 N 次领奖时额外奖励，每个周期一次。三项都填才生效。',
	cp_tiers: '会员等级倍数', cp_tier_note: '按会员等级放大基础积分，例如 1.5 表示 1.5 倍；留空表示 1 倍。',
	cp_rebate: '导购返利（积分，发给绑定该商品的导购）',
	cp_unknown_segment: '所选人群不存在，请先在“人群”页面保存',
	cp_bonuses_paid: '已发奖励', cp_rebates_paid: '返利',
	cp_bonus_first_scan: '首扫', cp_bonus_registration: '注册',
	cp_bonus_birthday: '生日', cp_bonus_streak: '连续',
	cp_segment_n: '人群 #%s',
	cp_bad_streak: '连续领奖奖励：领奖次数 2–1000、天数 1–366、奖励积分 1–1000000，三项都要填写',
	cp_bad_priority: '优先级须为 -1000000 到 1000000 之间的整数',
	cp_bad_tier_multiplier: '等级倍数须为 0.1 到 10 之间的数字',
	cp_bad_points: '积分须为 1 到 1000000 之间的整数',
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
	cp_stacking: 'Stacking', cp_priority: 'Priority (higher is judged first)',
	cp_mode: 'Mode', cp_exclusive: 'Exclusive: pays alone, never with ' +
	    'other campaigns', cp_stackable: 'Stackable: adds its points to ' +
	    'the other stackable campaigns', cp_mode_exclusive: 'Exclusive',
	cp_mode_stackable: 'Stackable', cp_audience: 'Audience',
	cp_everyone: 'Every member',
	cp_stack_note: 'When several campaigns apply to one scan they are ' +
	    'judged by priority, highest first (ties: the older first): the ' +
	    'first exclusive one that applies pays alone; when none does, ' +
	    'every stackable one adds its points. Each pays from its own ' +
	    'budget and stops paying once that is spent.',
	cp_earning: 'Extra earning rules',
	cp_first_scan: 'First-scan bonus (points)',
	cp_registration: 'Registration bonus (points)',
	cp_birthday: 'Birthday-month bonus (points, once a year)',
	cp_streak: 'Streak bonus', cp_streak_claims: 'Claims',
	cp_streak_days: 'within days', cp_streak_points: 'Bonus points',
	cp_streak_note: 'Extra points with the Nth claim within the days ' +
	    'given, once per such period. Fill in all three.',
	cp_tiers: 'Tier multipliers', cp_tier_note: 'Base points times the ' +
	    "member's tier factor, e.g. 1.5; empty means 1.",
	cp_rebate: 'Seller rebate (points, to the seller the item is bound to)',
	cp_unknown_segment: 'That segment does not exist: save it on the ' +
	    'Segments page first',
	cp_bonuses_paid: 'Bonuses paid', cp_rebates_paid: 'rebates',
	cp_bonus_first_scan: 'first scan',
	cp_bonus_registration: 'registration', cp_bonus_birthday: 'birthday',
	cp_bonus_streak: 'streak', cp_segment_n: 'segment #%s',
	cp_bad_streak: 'Streak: claims 2-1000, days 1-366 and bonus points ' +
	    '1-1000000, all three filled in',
	cp_bad_priority: 'Priority must be a whole number from -1000000 to ' +
	    '1000000', cp_bad_tier_multiplier: 'Tier factors must be numbers ' +
	    'from 0.1 to 10', cp_bad_points: 'Points must be whole numbers ' +
	    'from 1 to 1000000',
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
function campaignForm(existing, batches, distributors, segments, tiers,
    done) {
	const c = existing ? existing.config : {};
	const streak = c.streak || {};
	const mult = c.tier_multiplier || {};
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
		priority: el('input', { name: 'priority', type: 'number',
		    min: -1000000, max: 1000000, step: 1, value: c.priority || 0 }),
		mode: el('select', { name: 'mode' },
		    el('option', { value: 'exclusive',
		      selected: c.mode !== 'stackable' }, t('cp_exclusive')),
		    el('option', { value: 'stackable',
		      selected: c.mode === 'stackable' }, t('cp_stackable'))),
		audience: el('select', { name: 'audience' },
		    el('option', { value: '' }, t('cp_everyone')),
		    segments.map((g) => el('option', { value: String(g.id),
		      selected: c.audience === g.id }, `#${g.id} · ${g.name}`))),
		first_scan_bonus: el('input', { name: 'first_scan_bonus',
		    type: 'number', min: 0, value: c.first_scan_bonus || 0 }),
		registration_bonus: el('input', { name: 'registration_bonus',
		    type: 'number', min: 0, value: c.registration_bonus || 0 }),
		birthday_bonus: el('input', { name: 'birthday_bonus',
		    type: 'number', min: 0, value: c.birthday_bonus || 0 }),
		streak_claims: el('input', { name: 'streak_claims', type: 'number',
		    min: 2, max: 1000, value: streak.claims || '',
		    'aria-label': t('cp_streak_claims') }),
		streak_days: el('input', { name: 'streak_days', type: 'number',
		    min: 1, max: 366, value: streak.days || '',
		    'aria-label': t('cp_streak_days') }),
		streak_points: el('input', { name: 'streak_points', type: 'number',
		    min: 1, value: streak.points || '',
		    'aria-label': t('cp_streak_points') }),
		seller_rebate: el('input', { name: 'seller_rebate', type: 'number',
		    min: 0, value: c.seller_rebate || 0 }),
	};
	/* A factor per tier of the brand, and any the config names besides. */
	const tierNames = [...new Set([...tiers.map((x) => x.name),
	    ...Object.keys(mult)])];
	const tierInputs = tierNames.map((n) => {
		const i = el('input', { name: 'tier_multiplier', type: 'number',
		    min: 0.1, max: 10, step: 'any', value: mult[n] !== undefined ?
		    mult[n] : '', 'aria-label': n, placeholder: '1' });
		i.dataset.tier = n;	/* (el() sets no data- attribute) */
		return i;
	});
	f.tier_multiplier = tierInputs[0] || f.priority;
	f.streak = f.streak_claims;
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
	    el('h3', { class: 'wide' }, t('cp_stacking')),
	    el('label', {}, t('cp_priority'), f.priority),
	    el('label', {}, t('cp_mode'), f.mode),
	    el('label', {}, t('cp_audience'), f.audience),
	    el('p', { class: 'muted small wide', id: 'stack-note' },
	      t('cp_stack_note')),
	    el('h3', { class: 'wide' }, t('cp_earning')),
	    el('label', {}, t('cp_first_scan'), f.first_scan_bonus),
	    el('label', {}, t('cp_registration'), f.registration_bonus),
	    el('label', {}, t('cp_birthday'), f.birthday_bonus),
	    el('label', {}, t('cp_rebate'), f.seller_rebate),
	    el('label', { class: 'wide' }, t('cp_streak'),
	      el('span', { class: 'inline-fields' },
	      el('span', {}, t('cp_streak_claims'), ' ', f.streak_claims), ' ',
	      el('span', {}, t('cp_streak_days'), ' ', f.streak_days), ' ',
	      el('span', {}, t('cp_streak_points'), ' ', f.streak_points))),
	    el('p', { class: 'muted small wide' }, t('cp_streak_note')),
	    el('label', { class: 'wide' }, t('cp_tiers'),
	      el('span', { class: 'inline-fields', id: 'tier-multipliers' },
	      tierInputs.map((i) => el('span', {}, i.dataset.tier, ' ', i, ' ')))),
	    el('p', { class: 'muted small wide' }, t('cp_tier_note')),
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
		cfg.priority = Math.trunc(num(f.priority));
		cfg.mode = f.mode.value;
		if (f.audience.value)
			cfg.audience = Number(f.audience.value);
		for (const k of ['first_scan_bonus', 'registration_bonus',
		    'birthday_bonus', 'seller_rebate'])
			if (num(f[k]))
				cfg[k] = num(f[k]);
		if (f.streak_claims.value || f.streak_days.value ||
		    f.streak_points.value)
			cfg.streak = { claims: num(f.streak_claims),
			    days: num(f.streak_days), points: num(f.streak_points) };
		const tm = {};
		for (const i of tierInputs)
			if (i.value !== '')
				tm[i.dataset.tier] = Number(i.value);
		if (Object.keys(tm).length)
			cfg.tier_multiplier = tm;
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
			/* a 422 invalid names its field in the message */
			const named = !e.field && /^'([a-z_]+)'/.exec(e.message || '');
			const input = m ? f[m[1]] : f[e.field || (named && named[1])];
			const value = m ? cfg[m[1]][Number(m[2])] : '';
			const known = { unknown_product: 1, unknown_batch: 1,
			    unknown_distributor: 1, no_pin_file: 1,
			    unknown_segment: 1 };
			const bad = named && { streak: 'cp_bad_streak', priority:
			    'cp_bad_priority', tier_multiplier: 'cp_bad_tier_multiplier',
			    first_scan_bonus: 'cp_bad_points', registration_bonus:
			    'cp_bad_points', birthday_bonus: 'cp_bad_points',
			    seller_rebate: 'cp_bad_points' }[named[1]];
			const text = known[e.code] ? tf('cp_' + e.code, value) :
			    bad ? t(bad) : A.errText(e);
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
	    cfg.territory ? `${t('cp_territory')} #${cfg.territory}` : null,
	    cfg.audience ? tf('cp_segment_n', cfg.audience) : null]
	    .filter(Boolean).join(' · ');
	const mode = pill(`${t(cfg.mode === 'stackable' ? 'cp_mode_stackable' :
	    'cp_mode_exclusive')} · P${cfg.priority || 0}`,
	    cfg.mode === 'stackable' ? 'info' : '');
	const rules = [cfg.first_scan_bonus ?
	    `${t('cp_bonus_first_scan')} +${fmt(cfg.first_scan_bonus)}` : null,
	    cfg.registration_bonus ?
	    `${t('cp_bonus_registration')} +${fmt(cfg.registration_bonus)}` : null,
	    cfg.birthday_bonus ?
	    `${t('cp_bonus_birthday')} +${fmt(cfg.birthday_bonus)}` : null,
	    cfg.streak ? `${t('cp_bonus_streak')} ${cfg.streak.claims}/` +
	    `${cfg.streak.days}${t('cp_days')} +${fmt(cfg.streak.points)}` : null,
	    cfg.tier_multiplier ? Object.entries(cfg.tier_multiplier).map(
	    ([k, v]) => `${k} ×${v}`).join(' ') : null,
	    cfg.seller_rebate ? `${t('cp_rebates_paid')} +${fmt(cfg.seller_rebate)}`
	    : null].filter(Boolean).join(' · ');
	return [line, ' ', mode, extra ? el('span', { class: 'sub' }, extra) :
	    null, rules ? el('span', { class: 'sub' }, rules) : null];
}

/* What the bonuses and rebates paid, by kind (results.bonuses). */
function bonusesCell(c) {
	const r = c.results || {};
	const parts = Object.entries(r.bonuses || {}).filter(([, v]) =>
	    v.count).map(([k, v]) => `${t('cp_bonus_' + k)} ${fmt(v.count)} · ` +
	    fmt(v.points));
	if (r.rebates && r.rebates.count)
		parts.push(`${t('cp_rebates_paid')} ${fmt(r.rebates.count)} · ` +
		    fmt(r.rebates.points));
	return parts.length ? parts.map((p) => el('div', {}, p)) : '–';
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
	let list, stats, batches, distributors, segments, tiers;
	try {
		[list, stats, batches, distributors, segments, tiers] =
		    await Promise.all([
		    api('GET', '/api/v1/campaigns'),
		    api('GET', `/api/v1/stats/campaigns?from=${localDate(yearAgo)}` +
		      `&to=${localDate(today)}`).catch(() => ({ campaigns: [] })),
		    api('GET', '/api/v1/batches').then((r) => r.batches || []),
		    api('GET', '/api/v1/distributors').then((r) =>
		      r.distributors || []).catch(() => []),
		    api('GET', '/api/v1/segments').then((r) =>
		      r.segments || []).catch(() => []),
		    api('GET', '/api/v1/settings').then((r) =>
		      r.tiers || []).catch(() => [])]);
	} catch (e) {
		failure(body, e, reload);
		return;
	}
	const showForm = (existing) => {
		append(clear(formBox), [campaignForm(existing, batches, distributors,
		    segments, tiers, (saved) => {
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
	    { label: t('cp_bonuses_paid'), render: bonusesCell },
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
