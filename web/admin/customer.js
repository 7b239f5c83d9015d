/*
 * customer.js - one customer of the brand (issue 19 item 5: the customer
 * detail view), opened from the customers list (#/customer?id=N; the
 * page is not in the nav): the profile (phone masked, role, tier and the
 * way to the next one, balance, segment, times), then the customer's
 * scans, claims, redemptions (orders) and points ledger, each newest
 * first and paged from GET /api/v1/customers/{id}/history, and the
 * admin's PIPL actions: export everything kept, erase.
 */
'use strict';

(function () {

const A = window.sigilAdmin, P = window.sigilPeople;
if (!A || !P)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, pill, when,
    fmt } = A;

Object.assign(A.TEXT.zh, {
	cu_back: '← 会员列表', cu_title: '会员', cu_profile: '会员资料',
	cu_role: '身份', cu_next: '距', cu_needed: '还差', cu_points: '积分',
	cu_top: '已是最高等级', cu_created: '注册时间', cu_devices: '登录设备',
	cu_scans: '扫码记录', cu_claims: '领奖记录', cu_orders: '兑换记录',
	cu_ledger: '积分明细', cu_time: '时间', cu_verdict: '结果',
	cu_check: '扫码编号', cu_first: '首次扫码', cu_where: '位置',
	cu_campaign: '活动', cu_item: '兑换品', cu_delivery: '配送/自提',
	cu_status: '状态', cu_open: '待处理', cu_fulfilled: '已发出',
	cu_pickup: '自提码', cu_hidden: '（仅运营和管理员可见）',
	cu_type: '类型', cu_earn: '获得', cu_redeem: '兑换', cu_expire: '过期',
	cu_adjust: '调整', cu_merge: '合并', cu_expires: '到期', cu_bad_id: '会员编号无效',
	cu_budget: '已检索部分扫码记录，可继续加载',
	cu_erased_note: '此会员的个人数据已删除：手机号、设备关联和反馈内容不再保存，积分与领奖的统计保留。',
	cu_done_erase: '已删除此会员的个人数据',
});
Object.assign(A.TEXT.en, {
	cu_back: '← Customers', cu_title: 'Customer', cu_profile: 'Profile',
	cu_role: 'Role', cu_next: 'To', cu_needed: 'needs', cu_points: 'points',
	cu_top: 'Top tier', cu_created: 'Joined', cu_devices: 'Devices',
	cu_scans: 'Scans', cu_claims: 'Claims', cu_orders: 'Redemptions',
	cu_ledger: 'Points ledger', cu_time: 'Time', cu_verdict: 'Verdict',
	cu_check: 'Check id', cu_first: 'First scan', cu_where: 'Location',
	cu_campaign: 'Campaign', cu_item: 'Item', cu_delivery: 'Delivery',
	cu_status: 'Status', cu_open: 'Open', cu_fulfilled: 'Fulfilled',
	cu_pickup: 'Pick-up code', cu_hidden: '(operators and admins only)',
	cu_type: 'Type', cu_earn: 'Earned', cu_redeem: 'Redeemed',
	cu_expire: 'Expired', cu_adjust: 'Adjusted', cu_merge: 'Merged',
	cu_expires: 'Expires',
	cu_bad_id: 'Not a customer id',
	cu_budget: 'Part of the scan log was searched; load more to go on',
	cu_erased_note: 'This customer\'s personal data was erased: phone, ' +
	    'device links and feedback texts are gone; points and claim ' +
	    'counts remain.',
	cu_done_erase: 'The customer\'s personal data was erased',
});

const VERDICT_KIND = { genuine: 'ok', suspicious: 'warn', counterfeit: 'bad',
    revoked: 'bad', inactive: 'warn', unverified: 'warn' };

function tierBlock(c) {
	const n = c.next_tier;
	if (!n)
		return [c.tier || '–', el('span', { class: 'sub' }, t('cu_top'))];
	const have = Math.max(0, n.min - n.points_needed);
	return [c.tier || '–', el('div', { class: 'tier-progress' },
	    el('progress', { max: String(n.min), value: String(have),
	    'aria-label': n.name }), el('span', { class: 'sub', id: 'tier-next' },
	    `${t('cu_next')} ${n.name} ${t('cu_needed')} ${fmt(n.points_needed)} ` +
	    t('cu_points')))];
}

function profile(c) {
	const row = (k, v) => [el('dt', {}, k), el('dd', {}, v)];
	return el('dl', { class: 'facts', id: 'customer-profile' },
	    row(t('phone'), c.erased ? pill(t('erased'), 'bad') : c.phone),
	    row(t('cu_role'), t(c.role || 'consumer')),
	    row(t('tier'), tierBlock(c)),
	    row(t('balance'), el('span', { id: 'customer-balance' }, fmt(c.balance))),
	    row(t('points_12m'), fmt(c.points_12m)),
	    row(t('segment'), pill(t(c.segment), 'info')),
	    row(t('claims'), fmt(c.claims)),
	    row(t('cu_created'), when(c.created)),
	    row(t('last_login'), when(c.last_login)),
	    c.devices !== undefined ? row(t('cu_devices'), fmt(c.devices)) : null,
	    c.erased ? row(t('erased'), when(c.erased)) : null);
}

const SECTIONS = {
	scans: () => [
	    { label: t('cu_time'), render: (s) => when(s.at) },
	    { label: t('product'), render: (s) => P.productCell(s.product_name,
	      s.sku, s.lot) },
	    { label: t('cu_verdict'), render: (s) => pill(t(s.verdict),
	      VERDICT_KIND[s.verdict] || '') },
	    { label: t('cu_check'), render: (s) => el('span', { class: 'mono' },
	      s.check_id) },
	    { label: t('cu_first'), render: (s) => s.first_scan ? t('yes') : t('no') },
	    { label: t('cu_where'), render: (s) => s.location ?
	      `${s.location.lat.toFixed(2)}, ${s.location.lng.toFixed(2)}` : '–' },
	    { label: t('pp_code'), render: (s) => P.lookupLink(s.url) }],
	claims: () => [
	    { label: t('cu_time'), render: (c) => when(c.at) },
	    { label: t('product'), render: (c) => P.productCell(c.product_name,
	      c.sku, c.lot) },
	    { label: t('points'), render: (c) => '+' + fmt(c.points), num: true },
	    { label: t('cu_role'), render: (c) => t(c.role) },
	    { label: t('cu_campaign'), render: (c) => c.campaign ? '#' + c.campaign : '–' },
	    { label: t('cu_expires'), render: (c) => c.expires_at ? when(c.expires_at) : '–' },
	    { label: t('pp_code'), render: (c) => P.lookupLink(c.url) }],
	orders: () => [
	    { label: t('cu_time'), render: (o) => when(o.created) },
	    { label: t('cu_item'), render: (o) => o.item_name || '#' + o.item },
	    { label: t('cu_delivery'), render: (o) => o.pickup_code ?
	      `${t('cu_pickup')} ${o.pickup_code}` : o.delivery ?
	      [o.delivery.name, el('span', { class: 'sub' },
	      `${o.delivery.phone} · ${o.delivery.address}`)] :
	      o.delivery === null ? t('erased') : t('cu_hidden') },
	    { label: t('cu_status'), render: (o) => [pill(t('cu_' + o.status),
	      o.status === 'open' ? 'warn' : 'ok'), o.fulfilled ?
	      el('span', { class: 'sub' }, when(o.fulfilled)) : null] }],
	ledger: () => [
	    { label: t('cu_time'), render: (e) => when(e.at) },
	    { label: t('cu_type'), render: (e) => t('cu_' + e.type) },
	    { label: t('points'), render: (e) => (e.points > 0 ? '+' : '') +
	      fmt(e.points), num: true },
	    { label: t('cu_item'), render: (e) => e.item_name || '–' },
	    { label: t('cu_expires'), render: (e) => e.expires_at ?
	      when(e.expires_at) : '–' }],
};
const TITLES = { scans: 'cu_scans', claims: 'cu_claims', orders: 'cu_orders',
    ledger: 'cu_ledger' };

function downloadJson(name, doc) {
	const blob = new Blob([JSON.stringify(doc, null, 2)],
	    { type: 'application/json' });
	const a = el('a', { href: URL.createObjectURL(blob), download: name });
	document.body.appendChild(a);
	a.click();
	a.remove();
}

async function customerPage(box, params) {
	const id = params.get('id') || '';
	const head = el('div', { class: 'toolbar' },
	    el('a', { href: '#/customers', id: 'back-customers' }, t('cu_back')),
	    el('h1', {}, `${t('cu_title')} #${id}`),
	    el('span', { class: 'spacer' }));
	const top = el('div', { class: 'card', id: 'customer-card' });
	append(box, [head, top]);
	if (!/^[1-9][0-9]{0,18}$/.test(id)) {
		append(top, [el('div', { class: 'notice error' }, t('cu_bad_id'))]);
		return;
	}
	const base = `/api/v1/customers/${id}`;
	let c, h;
	try {
		[c, h] = await Promise.all([api('GET', base),
		    api('GET', base + '/history?limit=20')]);
	} catch (e) {
		P.failBox(top, e, () => A.route());
		return;
	}
	c = c.customer;
	append(top, [el('h2', {}, t('cu_profile')), profile(c),
	    c.erased ? el('div', { class: 'notice' }, t('cu_erased_note')) : null]);
	/* What other files show of a customer (identities, consent,
	 * profile): each block is a card of its own below this one. */
	for (const block of P.customerBlocks) {
		const card = block(c, base);
		if (card)
			box.appendChild(card);
	}
	if (can.admin() && !c.erased) {
		head.appendChild(el('button', { type: 'button', id: 'customer-export',
		    on: { click: async () => {
			try {
				downloadJson(`customer-${id}.json`,
				    await api('GET', base + '/export'));
			} catch (e) {
				toast(P.errText(e), true);
			}
		} } }, t('export')));
		head.appendChild(el('button', { type: 'button', class: 'danger',
		    id: 'customer-erase', on: { click: async () => {
			if (!await confirmBox(t('erase'), el('p', {},
			    `#${id} ${c.phone || ''}: ${t('confirm_erase')}`)))
				return;
			try {
				await api('POST', base + '/erase', {});
				toast(t('cu_done_erase'));
				A.route();
			} catch (e) {
				toast(P.errText(e), true);
			}
		} } }, t('erase')));
	}
	const grid = el('div', { class: 'grid two' });
	box.appendChild(grid);
	for (const s of Object.keys(SECTIONS)) {
		const body = el('div', { id: 'section-' + s });
		grid.appendChild(el('div', { class: 'card' },
		    el('h2', {}, t(TITLES[s])), body));
		const list = P.pagedList(body, 'more-' + s, SECTIONS[s],
		    async (cursor) => {
			const d = await api('GET', `${base}/history?section=${s}` +
			    `&limit=20&before=${cursor}`);
			return page(d, s);
		    });
		list.first(page(h, s));
	}
}

function page(d, s) {
	return { rows: d[s] || [], next: d['next_' + s],
	    note: d.scan_budget_spent ? t('cu_budget') : null };
}

A.registerPage('customer', 'customers', customerPage,
    { group: 'customers', hidden: true });

})();
