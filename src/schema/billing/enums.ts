import { builder } from "../builder.js";

export const ProductEnum = builder.enumType("Product", {
  description: "Something the platform charges for, per unit.",
  values: {
    SMS_OUTBOUND: { description: "One outbound SMS segment." },
    SMS_INBOUND: { description: "One inbound SMS segment." },
    MMS_OUTBOUND: { description: "One outbound MMS message." },
    VOICE_OUTBOUND_MINUTE: { description: "One minute of an outbound call." },
    VOICE_INBOUND_MINUTE: { description: "One minute of an inbound call." },
    PHONE_NUMBER_MONTHLY: { description: "One month of a phone number; charged once when the number is provisioned." },
  } as const,
});

export const LedgerEntryKindEnum = builder.enumType("LedgerEntryKind", {
  description: "Why a balance moved.",
  values: {
    TOP_UP: { description: "Funds added by a top-up (a payment)." },
    CHARGE: { description: "A usage charge." },
    TRANSFER_IN: { description: "Funds received from another balance of the same manager's tree." },
    TRANSFER_OUT: { description: "Funds sent to another balance of the same manager's tree." },
    ADJUSTMENT: { description: "A correction made by the platform." },
  } as const,
});

export const PricingSourceEnum = builder.enumType("PricingSource", {
  description: "Where an account's price list comes from.",
  values: {
    PLATFORM_DEFAULT: { description: "The platform's default rates (a manager without negotiated rates, or the platform card itself)." },
    MANAGER_NEGOTIATED: { description: "The manager's negotiated rates, over the platform defaults for products they do not list." },
    INHERITED_FROM_MANAGER: { description: "A sub-account paying its manager's rates, whatever they are, live." },
    CUSTOM: {
      description: "A sub-account's custom rates (allowCustomPricing on), over its manager's rates for products they do not list.",
    },
  } as const,
});
