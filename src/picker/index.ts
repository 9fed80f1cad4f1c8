/** Piece picking policy (pure): rarest-first, partial pieces first, allowed-fast, endgame. See NOTES.md. */
export { PiecePicker, PRIORITY_DEFAULT, PRIORITY_MAX, PRIORITY_SKIP } from './piece-picker.js';
export type { BlockCancel, BlockRequest, BlockResult, PickerPeer, PickerStats, PiecePickerOptions } from './piece-picker.js';
export { RarityIndex } from './rarity-index.js';
