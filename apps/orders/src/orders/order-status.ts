/**
 * The life of an order. `pending` → `confirmed` → `shipped`; `pending` or `confirmed` →
 * `cancelled`. Who may move an order between states is in orders.policy.ts.
 */
export const ORDER_STATUSES = ['pending', 'confirmed', 'shipped', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Open orders (CountOpenOrders; users refuses to delete an account that has any): still to be
 * fulfilled. A shipped order has left the warehouse and a cancelled one never will.
 */
export const OPEN_STATUSES: readonly OrderStatus[] = ['pending', 'confirmed'];
