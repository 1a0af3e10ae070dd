/** The server's catalog: prices of orders always come from here, never from a client. */
export interface CatalogItem {
  sku: string;
  name: string;
  /** Minor units (cents), to keep money out of floating point. */
  price: number;
  currency: 'EUR';
}

export const CATALOG: readonly CatalogItem[] = Object.freeze([
  { sku: 'KB-001', name: 'Mechanical keyboard', price: 8900, currency: 'EUR' },
  { sku: 'MS-002', name: 'Wireless mouse', price: 3500, currency: 'EUR' },
  { sku: 'MN-003', name: '27" monitor', price: 24900, currency: 'EUR' },
  { sku: 'HS-004', name: 'Headset', price: 5900, currency: 'EUR' },
]);

export function findCatalogItem(sku: string): CatalogItem | undefined {
  return CATALOG.find((item) => item.sku === sku);
}
