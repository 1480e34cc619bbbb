//! Contrastive Predictive Coding: the closed-form optimum, the sequence source, the model's
//! layout, the negatives, gradients, learning and the example.

mod data;
mod example;
mod gradients;
mod layout;
mod learning;
mod optimum;
