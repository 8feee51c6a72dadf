/**
 * The command line's outside import, as a full specifier (see src/deps.ts): commander parses
 * the arguments on the main thread only, so a destination's worker never loads it.
 */
export {
  Argument,
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
  type OptionValues,
} from "npm:@commander-js/extra-typings@15.1.0";
