/** The error codes of spare-parts stock (see core/errors.ts). */
declare module '../../core/errors.ts' {
  interface ErrorCodes {
    PART_NOT_FOUND: true;
    STORE_NOT_FOUND: true;
    /** A part number, store id, contract number that exists already. */
    STOCK_EXISTS: true;
    /** Not enough available stock at the store; the message names what is available where. */
    INSUFFICIENT_STOCK: true;
    RESERVATION_NOT_FOUND: true;
    SHIPMENT_NOT_FOUND: true;
    ORDER_CONTRACT_NOT_FOUND: true;
    PURCHASE_ORDER_NOT_FOUND: true;
    STOCK_COUNT_NOT_FOUND: true;
    SHORTAGE_NOT_FOUND: true;
    TRANSFER_NOT_FOUND: true;
    /** The stock document's state does not allow that now (a booked count, a received order, …). */
    STOCK_INVALID_STATE: true;
  }
}

export {};
