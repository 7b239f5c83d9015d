/*
 * orders.js - the redemption fulfilment list (issue 19 item 5; review
 * item 8: "the brand has no list of redemptions to fulfil"): the orders
 * members placed with their points, newest first and paged from GET
 * /api/v1/orders, open ones by default, each with the delivery address
 * or the pick-up code the member shows in the shop, and "mark
 * fulfilled" (asked in the page, then POST /api/v1/orders/{id}/fulfil).
 * The list holds names, phones and addresses: operators and admins
 * only, as the API.
 */
'use strict';

(function () {

const A = window.sigilAdmin, P = window.sigilPeople;
if (!A || !P)
	return;
const { el, append, clear, t, api, can, toast, confirmBox, pill, when } = A;

Object.assign(A.TEXT.zh, {
	orders: '兑换订单', or_title: '兑换订单（待发货与自提）',
	or_status: '状态', or_open: '待处理', or_fulfilled: '已发出',
	or_all: '全部订单', or_order: '订单', or_item: '兑换品',
	or_customer: '会员', or_delivery: '收货信息 / 自提码',
	or_pickup: '到店自提，自提码', or_fulfil: '标记已发出',
	or_confirm: '确认此订单已发货或已被领取？确认后会员会看到“已发出”，此操作不可撤销。',
	or_done: '已标记为已发出', or_only: '兑换订单包含会员的姓名、电话和地址，仅运营和管理员可以查看和处理。',
	or_erased: '（会员已删除，收货信息已清除）', or_at: '于',
});
Object.assign(A.TEXT.en, {
	orders: 'Orders', or_title: 'Redemption orders (to ship or hand over)',
	or_status: 'Status', or_open: 'Open', or_fulfilled: 'Fulfilled',
	or_all: 'All orders', or_order: 'Order', or_item: 'Item',
	or_customer: 'Customer', or_delivery: 'Delivery address / pick-up code',
	or_pickup: 'Pick-up in shop, code', or_fulfil: 'Mark fulfilled',
	or_confirm: 'Has this order been shipped or collected? The member ' +
	    'will see it as fulfilled; this cannot be undone.',
	or_done: 'Marked fulfilled',
	or_only: 'Orders hold members\' names, phones and addresses: only ' +
	    'operators and admins may see and fulfil them.',
	or_erased: '(customer erased; address removed)', or_at: 'at',
});

function deliveryCell(o) {
	if (o.kind === 'pickup')
		return [t('or_pickup'), ' ', el('strong', { class: 'mono' },
		    o.pickup_code)];
	if (!o.delivery)
		return el('span', { class: 'muted' }, t('or_erased'));
	return [o.delivery.name, el('span', { class: 'sub' }, o.delivery.phone),
	    el('span', { class: 'sub' }, o.delivery.address)];
}

async function ordersPage(box, params) {
	const status = el('select', { id: 'order-status', 'aria-label':
	    t('or_status') }, ['open', 'fulfilled', 'all'].map((s) =>
	    el('option', { value: s, selected: (params.get('status') ||
	    'open') === s }, t(s === 'all' ? 'or_all' : 'or_' + s))));
	append(box, [el('div', { class: 'toolbar' }, el('h1', {}, t('or_title')),
	    el('span', { class: 'spacer' }), status)]);
	if (!can.operate()) {
		box.appendChild(el('div', { class: 'notice', id: 'orders-only' },
		    t('or_only')));
		return;
	}
	const body = el('div', { class: 'card', id: 'orders-list' });
	box.appendChild(body);
	const fulfil = (o) => async () => {
		if (!await confirmBox(t('or_fulfil'), el('div', {},
		    el('p', {}, `${t('or_order')} #${o.id} · ${o.item_name || ''}`),
		    el('p', {}, deliveryCell(o)), el('p', {}, t('or_confirm')))))
			return;
		try {
			const d = await api('POST', `/api/v1/orders/${o.id}/fulfil`, {});
			Object.assign(o, d);
			toast(t('or_done'));
			list.redraw();
		} catch (e) {
			toast(P.errText(e), true);
			if (e.code === 'already_fulfilled')
				list.reload();
		}
	};
	const cols = () => [
	    { label: t('or_order'), render: (o) => [`#${o.id}`,
	      el('span', { class: 'sub' }, when(o.created))] },
	    { label: t('or_item'), render: (o) => o.item_name || '#' + o.item },
	    { label: t('or_customer'), render: (o) => P.customerLink(o.customer) },
	    { label: t('or_delivery'), render: deliveryCell },
	    { label: t('or_status'), render: (o) => [pill(t('or_' + o.status),
	      o.status === 'open' ? 'warn' : 'ok'), o.fulfilled ?
	      el('span', { class: 'sub' }, when(o.fulfilled)) : null] },
	    { label: t('actions'), render: (o) => o.status === 'open' ?
	      el('button', { type: 'button', class: 'primary fulfil',
	      id: 'fulfil-' + o.id, on: { click: fulfil(o) } }, t('or_fulfil')) :
	      '' }];
	const list = P.pagedList(body, 'more-orders', cols, async (cursor) => {
		const s = status.value;
		const d = await api('GET', '/api/v1/orders?limit=50' +
		    (s === 'all' ? '' : '&status=' + s) +
		    (cursor ? '&before=' + cursor : ''));
		return { rows: d.orders, next: d.next };
	});
	status.addEventListener('change', () => list.reload());
	list.reload();
}

A.registerPage('orders', 'campaigns', ordersPage, { group: 'marketing',
    ownNote: true });

})();
