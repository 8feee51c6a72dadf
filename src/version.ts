/** fanout's version, printed by `fanout --version`. */
export const VERSION = "0.1.0";
