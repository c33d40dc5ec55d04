package main

import (
	"github.com/spf13/cobra"
)

// notImplemented is returned by subcommands whose engine has not landed yet.
func notImplemented(name string) error {
	return usagef("%s: not implemented yet", name)
}

func (a *app) trainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "train",
		Short: "Train a model on Parquet, Arrow IPC or CSV files",
		RunE:  func(*cobra.Command, []string) error { return notImplemented("train") },
	}
}

func (a *app) evalCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "eval",
		Short: "Evaluate a trained model on labelled data",
		RunE:  func(*cobra.Command, []string) error { return notImplemented("eval") },
	}
}

func (a *app) predictCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "predict",
		Short: "Write a trained model's predictions for new data",
		RunE:  func(*cobra.Command, []string) error { return notImplemented("predict") },
	}
}
