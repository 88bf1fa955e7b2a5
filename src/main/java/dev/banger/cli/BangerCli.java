package dev.banger.cli;
public class BangerCli { public static void main(String[] a){ System.out.println("hi"); } }
